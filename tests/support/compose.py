"""Read docker-compose.yml as Compose would: YAML merge keys, `${VAR:-default}` and
`${VAR:?message}` interpolation against a given environment (the `.env` of a test)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
_VARIABLE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}")


class MissingVariable(KeyError):
    """A `${VAR:?message}` whose variable is unset or empty."""


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Substitute variables in every string of `value` (recursively), as Compose does."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        given = env.get(name, "")
        if op == ":?" and not given:
            raise MissingVariable(f"{name}: {arg}")
        if op == ":-" and not given:
            return arg
        return given

    return _VARIABLE.sub(replace, value)


def raw_compose() -> dict[str, Any]:
    """The file parsed, merge keys resolved, variables not substituted."""
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def load_compose(env: Mapping[str, str]) -> dict[str, Any]:
    """The file with `env` substituted (raises MissingVariable for a required one)."""
    resolved = interpolate(raw_compose(), env)
    assert isinstance(resolved, dict)
    return resolved


def environment_of(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment as strings (Compose accepts a mapping or KEY=VALUE list)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) for item in env)
        return {key: value for key, value in pairs}
    return {key: "" if value is None else str(value) for key, value in env.items()}


def volume_targets(service: Mapping[str, Any]) -> dict[str, str]:
    """Mount target -> source of a service's volumes (short syntax)."""
    targets: dict[str, str] = {}
    for entry in service.get("volumes") or []:
        source, target, *_ = str(entry).split(":")
        targets[target] = source
    return targets


#: What a production `.env` provides; fake values, never a real secret.
EXAMPLE_ENV = {
    "SFPMS_SALESFORCE_URL": "https://login.salesforce.example",
    "SFPMS_SALESFORCE_CLIENT_ID": "client-id",
    "SFPMS_SALESFORCE_CLIENT_SECRET": "client-secret",
    "SFPMS_SALESFORCE_USERNAME": "integration@example.com",
    "SFPMS_SALESFORCE_PASSWORD": "password",
    "SFPMS_CUSTOMPMS_URL": "https://pms.example/api",
    "SFPMS_CUSTOMPMS_TOKEN": "pms-token",
    "SFPMS_SCHEMA_REGISTRY_USER": "sfpms",
    "SFPMS_SCHEMA_REGISTRY_PASSWORD": "registry-password",
    "SFPMS_DASHBOARD_TOKEN": "dashboard-token-of-some-length",
    "GRAFANA_ADMIN_PASSWORD": "grafana-password",
}
