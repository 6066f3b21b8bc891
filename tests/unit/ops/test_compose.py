"""docker-compose.yml, the sfpms services: real commands with valid options, settings the
product reads, state on volumes, healthchecks on the ports the commands serve, and start-up
ordered by health (not by sleeping). The infrastructure services are checked against their
documented requirements in test_compose_infra.py; the services are run for real, without
Docker, by tests/integration/deploy/test_compose_runs.py."""

from __future__ import annotations

import re
from typing import Any

import click
import pytest

from foundation.settings import Settings
from sfpms.cli import cli
from tests.support.compose import (
    COMPOSE_FILE,
    EXAMPLE_ENV,
    MissingVariable,
    environment_of,
    load_compose,
    volume_targets,
)

COMPOSE = load_compose(EXAMPLE_ENV)
SERVICES: dict[str, Any] = COMPOSE["services"]
SFPMS_SERVICES = {name: svc for name, svc in SERVICES.items() if svc.get("image") == "sfpms:latest"}
LONG_RUNNING = {name for name, svc in SFPMS_SERVICES.items() if svc.get("restart") != "no"}
PORT_OPTION = {"cdc": "--metrics-port", "worker": "--web-port", "sinks": "--metrics-port"}


def resolve(args: list[str]) -> tuple[click.Command, list[str]]:
    """The click command an argv names, and the arguments left for it."""
    command: click.Command = cli
    ctx = click.Context(cli, info_name="sfpms")
    rest = list(args)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        sub = command.get_command(ctx, rest[0])
        assert sub is not None, f"`sfpms {' '.join(args)}`: no command {rest[0]!r}"
        command, rest = sub, rest[1:]
    return command, rest


def served_port(name: str) -> int:
    command = [str(a) for a in SFPMS_SERVICES[name]["command"]]
    option = PORT_OPTION.get(name, "--port")
    return int(command[command.index(option) + 1])


def test_the_production_shape_has_every_part() -> None:
    expected = {
        "kafka-1", "kafka-2", "kafka-3", "schema-registry", "topic-init", "cdc", "worker",
        "sinks", "dashboard", "prometheus", "alertmanager", "grafana",
    }  # fmt: skip
    assert expected <= set(SERVICES)
    assert SERVICES["worker"]["deploy"]["replicas"] >= 2


@pytest.mark.parametrize("name", sorted(SFPMS_SERVICES))
def test_every_sfpms_service_runs_a_real_command_with_valid_options(name: str) -> None:
    args = [str(a) for a in SFPMS_SERVICES[name]["command"]]
    command, rest = resolve(args)
    assert not isinstance(command, click.Group), f"{args} names a group, not a command"
    command.make_context(f"sfpms {' '.join(args)}", rest)  # raises on unknown options


@pytest.mark.parametrize("name", sorted(SFPMS_SERVICES))
def test_environment_names_are_settings_the_product_reads(name: str) -> None:
    fields = set(Settings.model_fields)
    env = environment_of(SFPMS_SERVICES[name])
    for variable in env:
        assert variable.startswith("SFPMS_"), variable
        assert variable.removeprefix("SFPMS_").lower() in fields, f"{variable} is not a setting"
    Settings.model_validate({k.removeprefix("SFPMS_").lower(): v for k, v in env.items()})


@pytest.mark.parametrize("name", sorted(LONG_RUNNING))
def test_state_goes_to_a_volume_and_servers_listen_beyond_the_container(name: str) -> None:
    env = environment_of(SFPMS_SERVICES[name])
    volumes = volume_targets(SFPMS_SERVICES[name])
    assert env["SFPMS_DATA_DIR"] in volumes, f"{name}: SFPMS_DATA_DIR is not on a volume"
    assert volumes[env["SFPMS_DATA_DIR"]] in COMPOSE["volumes"], "a named volume"
    assert env["SFPMS_METRICS_HOST"] == "0.0.0.0"


@pytest.mark.parametrize("name", sorted(LONG_RUNNING))
def test_the_healthcheck_probes_readyz_on_the_port_the_command_serves(name: str) -> None:
    test = SFPMS_SERVICES[name]["healthcheck"]["test"]
    assert test[:4] == ["CMD", "python", "-m", "foundation.probe"]
    assert test[4] == f"http://127.0.0.1:{served_port(name)}/readyz"


def test_every_service_but_the_one_shot_init_has_a_healthcheck() -> None:
    missing = [n for n, s in SERVICES.items() if n != "topic-init" and "healthcheck" not in s]
    assert not missing, f"no healthcheck: {missing}"


def test_start_up_waits_for_health_not_for_a_sleep() -> None:
    for name, service in SERVICES.items():
        needs = service.get("depends_on") or {}
        assert isinstance(needs, dict), f"{name}: depends_on without conditions"
        for dependency, rule in needs.items():
            condition = rule["condition"]
            if dependency == "topic-init":
                assert condition == "service_completed_successfully", name
            else:
                assert condition == "service_healthy", f"{name} -> {dependency}"
                assert "healthcheck" in SERVICES[dependency], f"{dependency} has no healthcheck"
    assert "sleep" not in COMPOSE_FILE.read_text()
    for name in SFPMS_SERVICES:
        if name != "topic-init":
            assert "topic-init" in SERVICES[name]["depends_on"], name


def test_secrets_come_from_the_environment_not_the_file() -> None:
    text = COMPOSE_FILE.read_text()
    for variable in (
        "SALESFORCE_CLIENT_SECRET",
        "SALESFORCE_PASSWORD",
        "CUSTOMPMS_TOKEN",
        "SCHEMA_REGISTRY_PASSWORD",
        "DASHBOARD_TOKEN",  # required: an empty one used to turn the dashboard's auth off
    ):
        assert re.search(rf"SFPMS_{variable}: \$\{{SFPMS_{variable}:\?", text), variable
    for variable in EXAMPLE_ENV:
        with pytest.raises(MissingVariable, match=variable):
            load_compose({k: v for k, v in EXAMPLE_ENV.items() if k != variable})
