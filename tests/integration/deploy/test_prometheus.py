"""A real Prometheus (Debian's package) scrapes the compose services with the repo's
deploy/prometheus.yml, targets rewritten to the local ports, and loads the shipped alert
rules; a real Alertmanager receives from it. Every target must be up, and every metric the
Grafana dashboards and the alert rules name must exist."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from sfpms.embedded.broker import free_port
from tests.integration.deploy.compose_stack import DASHBOARD_TOKEN, ComposeStack
from tests.integration.deploy.conftest import ROOT
from tests.support.live import eventually

pytestmark = pytest.mark.integration

METRIC = re.compile(r"\b((?:kafka|sfpms)_[a-z0-9_]+|up)\b")
#: PromQL words the pattern would take for metric names
NOT_METRICS = {"up"}


def rewritten_config(stack: ComposeStack, tmp: Path, alertmanager: str) -> dict[str, Any]:
    """deploy/prometheus.yml with compose names resolved to this stack's local ports."""
    config = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    local = {
        f"{name}:{svc.compose_port}": f"127.0.0.1:{svc.port}"
        for name, svc in stack.services.items()
        if svc.port is not None
    }
    token = tmp / "dashboard_token"
    token.write_text(DASHBOARD_TOKEN + "\n")
    config["global"]["scrape_interval"] = "1s"
    config["global"]["evaluation_interval"] = "1s"
    config["rule_files"] = [str(ROOT / "deploy" / "prometheus" / "alerts.yml")]
    config["alerting"]["alertmanagers"] = [{"static_configs": [{"targets": [alertmanager]}]}]
    for job in config["scrape_configs"]:
        targets = [t for s in job.pop("static_configs", []) for t in s["targets"]]
        targets += [f"{n}:{d['port']}" for d in job.pop("dns_sd_configs", []) for n in d["names"]]
        missing = [t for t in targets if t not in local]
        assert not missing, f"{job['job_name']} scrapes {missing}, which compose does not serve"
        job["static_configs"] = [{"targets": [local[t] for t in targets]}]
        if "authorization" in job:
            assert job["authorization"]["credentials_file"] == "/run/secrets/dashboard_token"
            job["authorization"]["credentials_file"] = str(token)
    return config


def _serve(argv: list[str], log: Path, ready: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)

    def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"{argv[0]} exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            return httpx.get(ready, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    eventually(answers, timeout=60, what=ready)
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def prometheus(
    compose_stack: ComposeStack,
    synced_task: dict[str, Any],
    prometheus_binary: Path,
    alertmanager_binary: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """Prometheus on a free 127.0.0.1 port scraping the stack, Alertmanager beside it."""
    tmp = tmp_path_factory.mktemp("prometheus")
    am_port, prom_port = free_port(), free_port()
    alertmanager = _serve(
        [
            str(alertmanager_binary),
            f"--config.file={ROOT / 'deploy' / 'alertmanager.yml'}",
            f"--storage.path={tmp / 'am'}",
            f"--web.listen-address=127.0.0.1:{am_port}",
            "--cluster.listen-address=",  # one instance: no gossip port
        ],
        tmp / "alertmanager.log",
        f"http://127.0.0.1:{am_port}/-/ready",
    )
    config = tmp / "prometheus.yml"
    config.write_text(yaml.safe_dump(rewritten_config(compose_stack, tmp, f"127.0.0.1:{am_port}")))
    check = subprocess.run(
        [str(prometheus_binary.parent / "promtool"), "check", "config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    server = _serve(
        [
            str(prometheus_binary),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
        ],
        tmp / "prometheus.log",
        f"http://127.0.0.1:{prom_port}/-/ready",
    )
    try:
        yield f"http://127.0.0.1:{prom_port}"
    finally:
        _stop(server)
        _stop(alertmanager)


def _targets(url: str) -> list[dict[str, Any]]:
    active: list[dict[str, Any]] = httpx.get(f"{url}/api/v1/targets", timeout=5).json()["data"][
        "activeTargets"
    ]
    return active


@pytest.mark.timeout(900)  # the first run on a fresh machine installs Prometheus
def test_every_target_of_the_repo_configuration_is_up(prometheus: str) -> None:
    def all_up() -> list[dict[str, Any]] | None:
        targets = _targets(prometheus)
        return targets if targets and all(t["health"] == "up" for t in targets) else None

    try:
        targets = eventually(all_up, timeout=60, what="every target up")
    except AssertionError:
        raise AssertionError(json.dumps(_targets(prometheus), indent=2)[:4000]) from None
    jobs = {t["labels"]["job"] for t in targets}
    assert jobs == {"sfpms-dashboard", "sfpms-cdc", "sfpms-engine", "sfpms-sinks"}
    managers = httpx.get(f"{prometheus}/api/v1/alertmanagers", timeout=5).json()["data"]
    assert len(managers["activeAlertmanagers"]) == 1


def named_metrics() -> dict[str, set[str]]:
    """metric name -> where it is named (Grafana dashboard file or alert rule)."""
    names: dict[str, set[str]] = {}
    for path in (ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                for name in METRIC.findall(target["expr"]):
                    names.setdefault(name, set()).add(f"{path.name}: {panel['title']}")
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            for name in METRIC.findall(rule["expr"]):
                names.setdefault(name, set()).add(f"alert {rule['alert']}")
    return names


def test_every_metric_the_dashboards_and_alerts_name_exists(prometheus: str) -> None:
    names = named_metrics()
    assert "sfpms_api_budget_reserve" in names and "sfpms_e2e_latency_seconds_bucket" in names

    def missing() -> dict[str, set[str]]:
        absent = {}
        for name, where in names.items():
            found = httpx.get(
                f"{prometheus}/api/v1/series", params={"match[]": name}, timeout=5
            ).json()["data"]
            if not found:
                absent[name] = where
        return absent

    deadline = time.monotonic() + 60
    absent = missing()
    while absent and time.monotonic() < deadline:
        time.sleep(2)
        absent = missing()
    assert not absent, f"named but never exported: {absent}"


def test_the_alert_rules_load_and_evaluate_without_errors(prometheus: str) -> None:
    def evaluated() -> list[dict[str, Any]] | None:
        groups = httpx.get(f"{prometheus}/api/v1/rules", timeout=5).json()["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        return (
            rules
            if rules and all(r.get("lastEvaluation", "").startswith("2") for r in rules)
            else None
        )

    rules = eventually(evaluated, timeout=30, what="rules evaluated")
    assert {r["health"] for r in rules} == {"ok"}, [r for r in rules if r["health"] != "ok"]
    assert len(rules) == 7


def test_a_restarted_dashboard_reads_its_lag_history_back_from_prometheus(prometheus: str) -> None:
    from sfpms.observe.history_store import load_history

    def flows() -> dict[str, Any] | None:
        points, source = load_history(Path("/nonexistent"), prometheus, 600, 1.0)
        assert source == prometheus
        found = {k: v for k, v in points.items() if k.startswith("flow:")}
        return found if found and all(len(v) >= 2 for v in found.values()) else None

    series = eventually(flows, timeout=60, what="flow lag series in Prometheus")
    assert {"flow:task_project", "flow:task_task"} <= set(series)
    at, lag, _seconds = series["flow:task_project"][-1]
    assert lag >= 0 and at <= time.time() + 1
    groups = load_history(Path("/nonexistent"), prometheus, 600, 1.0)[0]
    assert any(k.startswith("group:") and k.endswith("sfpms-engine") for k in groups)
