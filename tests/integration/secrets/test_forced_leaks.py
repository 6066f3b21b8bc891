"""Secrets forced into the logs of every kind of process come out redacted.

Each process is the real `sfpms` command (`leaky.py` only adds the leaks): a CLI command,
the engine worker after Faust has set up its own logging, and the HTTP servers (schema
registry, dashboard, Custompms emulator), which crash inside a request so that uvicorn logs
the traceback. The short secret is `sfpms` itself, the product's name: the password must go
while names and paths that contain the word stay readable.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from foundation.logs import REDACTED
from foundation.settings import Settings, settings_env
from sfpms.embedded.broker import free_port, port_open
from sfpms.embedded.process import ManagedProcess, wait_until
from tests.integration.secrets.leaky import LEAK_PATH, MARK
from tests.support.stack import with_registry

pytestmark = pytest.mark.integration

SHORT = "sfpms"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def leaky_settings(settings: Settings) -> Iterator[Settings]:
    update = {
        "salesforce_password": SecretStr(SHORT),
        "custompms_token": SecretStr("tok" + secrets.token_hex(20)),
        "dashboard_token": SecretStr("dash" + secrets.token_hex(20)),
        "log_level": "INFO",
    }
    with with_registry(settings.model_copy(update=update)) as configured:
        yield configured


def _argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "tests.integration.secrets.leaky", *args]


def _env(settings: Settings) -> dict[str, str]:
    return {**os.environ, **settings_env(settings), "PYTHONPATH": str(ROOT)}


def _assert_redacted(log: str, settings: Settings, *, uncaught: bool = True) -> None:
    """The forced lines reached the log, and no secret did."""
    assert f"{MARK} message" in log, log[-3000:]
    assert f"{MARK} traceback" in log and "Traceback (most recent call last)" in log, log[-3000:]
    assert "Stack (most recent call last)" in log, log[-3000:]
    if uncaught:
        assert f"{MARK} uncaught" in log, log[-3000:]
    for secret in (settings.custompms_token, settings.dashboard_token):
        assert secret is not None
        assert secret.get_secret_value()[:12] not in log
    assert not re.search(rf"password[ =]{SHORT}\b", log), log[-3000:]
    assert f"password={REDACTED}" in log


@pytest.mark.parametrize("ending", [[], ["--as-click-error"]])
def test_a_cli_command_redacts_its_messages_tracebacks_and_its_uncaught_exception(
    leaky_settings: Settings, ending: list[str]
) -> None:
    done = subprocess.run(
        _argv("leak", *ending),
        env=_env(leaky_settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = done.stdout + done.stderr
    assert done.returncode != 0
    _assert_redacted(log, leaky_settings)
    assert "sfpms/cli.py" in log  # paths with the word in them are not redacted


def test_the_engine_worker_redacts_after_faust_has_set_up_its_logging(
    leaky_settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    process = ManagedProcess(
        "worker",
        _argv("worker", "--no-check-schemas", "--web-port", str(port)),
        log_path=tmp_path / "worker.log",
        env=_env(leaky_settings),
    )
    process.start()
    try:
        wait_until(lambda: not process.alive(), timeout=180, what="the worker to crash")
    finally:
        process.stop(grace=5)
    log = (tmp_path / "worker.log").read_text(errors="replace")
    _assert_redacted(log, leaky_settings)


def _serve_and_crash(
    name: str, args: list[str], port: int, settings: Settings, tmp_path: Path, **request: object
) -> str:
    process = ManagedProcess(
        name, _argv(*args), log_path=tmp_path / f"{name}.log", env=_env(settings)
    )
    process.start()
    try:
        wait_until(lambda: port_open(port), timeout=60, what=f"{name} to listen")
        response = httpx.get(f"http://127.0.0.1:{port}{LEAK_PATH}", timeout=30, **request)  # type: ignore[arg-type]
        assert response.status_code == 500, response.text
        for secret in ("sfpms", settings.custompms_token.get_secret_value()):
            assert f"password {secret}" not in response.text
    finally:
        process.stop(grace=5)
    return (tmp_path / f"{name}.log").read_text(errors="replace")


def test_the_registry_dashboard_and_emulator_redact_what_uvicorn_logs(
    leaky_settings: Settings, tmp_path: Path
) -> None:
    settings = leaky_settings.model_copy(update={"schema_registry_url": None})
    registry, dashboard, emulator = free_port(), free_port(), free_port()
    assert settings.dashboard_token is not None
    logs = {
        "registry": _serve_and_crash(
            "registry",
            ["registry", "--port", str(registry)],
            registry,
            settings,
            tmp_path,
            auth=_registry_auth(settings),
        ),
        "dashboard": _serve_and_crash(
            "dashboard",
            ["dashboard", "--port", str(dashboard)],
            dashboard,
            settings,
            tmp_path,
            headers={"Authorization": f"Bearer {settings.dashboard_token.get_secret_value()}"},
        ),
        "emulator": _serve_and_crash(
            "emulator",
            ["emulate", "custompms", "--memory", "--port", str(emulator)],
            emulator,
            settings,
            tmp_path,
        ),
    }
    for name, log in logs.items():
        assert "Exception in ASGI application" in log, name
        _assert_redacted(log, settings, uncaught=True)


def _registry_auth(settings: Settings) -> tuple[str, str]:
    credentials = settings.registry_credentials()
    assert credentials is not None
    return credentials[0], credentials[1].get_secret_value()
