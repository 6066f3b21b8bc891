"""docker-compose.yml cannot run here (no Docker engine), so it is validated statically:
it parses, every sfpms service runs a real CLI command with valid options, its environment
names are settings the product reads, ports line up with Prometheus' targets, and Grafana's
dashboard queries metrics the product exports."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from prometheus_client import REGISTRY

import foundation.metrics  # noqa: F401 - registers the sink metrics in the default registry
from connectors.cdc.metrics import CdcMetrics
from foundation.settings import Settings
from sfpms.cli import cli

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
SFPMS_SERVICES = {name: svc for name, svc in SERVICES.items() if svc.get("image") == "sfpms:latest"}


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


def test_the_production_shape_has_every_part() -> None:
    expected = {
        "kafka-1", "kafka-2", "kafka-3", "schema-registry", "topic-init", "cdc", "worker",
        "sinks", "dashboard", "prometheus", "grafana",
    }  # fmt: skip
    assert expected <= set(SERVICES)
    for broker in ("kafka-1", "kafka-2", "kafka-3"):
        env = SERVICES[broker]["environment"]
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
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
    for variable in SFPMS_SERVICES[name]["environment"]:
        assert variable.startswith("SFPMS_"), variable
        assert variable.removeprefix("SFPMS_").lower() in fields, f"{variable} is not a setting"


def test_secrets_come_from_the_environment_not_the_file() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for variable in (
        "SALESFORCE_CLIENT_SECRET",
        "SALESFORCE_PASSWORD",
        "CUSTOMPMS_TOKEN",
        "SCHEMA_REGISTRY_PASSWORD",
        "DASHBOARD_TOKEN",  # required: an empty one used to turn the dashboard's auth off
    ):
        assert re.search(rf"SFPMS_{variable}: \$\{{SFPMS_{variable}:\?", text), variable


def test_prometheus_scrapes_the_ports_the_services_serve_on() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    targets = {
        target
        for job in config["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    }
    for service, option in (
        ("dashboard", "--port"),
        ("cdc", "--metrics-port"),
        ("sinks", "--metrics-port"),
    ):
        command = [str(a) for a in SFPMS_SERVICES[service]["command"]]
        port = command[command.index(option) + 1]
        assert f"{service}:{port}" in targets
    assert "--host" in SFPMS_SERVICES["dashboard"]["command"]  # reachable inside its container


SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}


def _exported_metric_names() -> set[str]:
    names: set[str] = set()
    for registry in (REGISTRY, CdcMetrics().registry):
        for family in registry.collect():
            names.add(family.name)
            names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ()))
    source = (ROOT / "sfpms" / "observe" / "exposition.py").read_text()
    names.update(
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.fullmatch(r"(kafka|sfpms)_[a-z0-9_]+", node.value)
    )
    return names


def test_grafana_dashboard_parses_and_queries_exported_metrics() -> None:
    dashboard = json.loads(
        (ROOT / "deploy" / "grafana" / "dashboards" / "sfpms-lag.json").read_text()
    )
    exported = _exported_metric_names()
    assert "kafka_consumergroup_group_max_lag" in exported
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b((?:kafka|sfpms)_[a-z0-9_]+)", target["expr"])
    }
    assert queried, "the dashboard queries nothing"
    missing = sorted(queried - exported)
    assert not missing, f"Grafana queries metrics nobody exports: {missing}"
