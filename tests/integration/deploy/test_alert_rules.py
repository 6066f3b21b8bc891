"""The shipped alert rules and Alertmanager config, checked by Prometheus' own tools."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.integration.deploy.conftest import ROOT

pytestmark = pytest.mark.integration

RULES = ROOT / "deploy" / "prometheus"


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.timeout(900)  # the first run on a fresh machine installs the package
def test_every_alert_fires_when_it_should_and_not_before(promtool: Path) -> None:
    done = _run([str(promtool), "test", "rules", "alerts.test.yml"], RULES)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_the_unit_tests_cover_every_alert_rule(promtool: Path) -> None:
    import yaml

    rules = yaml.safe_load((RULES / "alerts.yml").read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    tests = yaml.safe_load((RULES / "alerts.test.yml").read_text())
    tested = {
        case["alertname"]
        for test in tests["tests"]
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    assert alerts == tested, f"alerts without a firing test: {sorted(alerts - tested)}"
    check = _run([str(promtool), "check", "rules", "alerts.yml"], RULES)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.timeout(900)
def test_alertmanager_accepts_its_configuration(amtool: Path) -> None:
    done = _run([str(amtool), "check-config", "alertmanager.yml"], ROOT / "deploy")
    assert done.returncode == 0, done.stdout + done.stderr
