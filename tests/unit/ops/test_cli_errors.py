"""Every CLI verb, run against a broker and APIs that are not there, prints one line that
names what it tried and what to do, and exits non-zero within a few seconds."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click
import pytest

from foundation.settings import Settings
from sfpms import preflight
from sfpms.cli import cli
from sfpms.embedded.broker import free_port

#: argv -> the address the line must name ("broker", "registry", ...: see `_dead_env`)
VERBS: dict[str, tuple[list[str], str]] = {
    "topics create": (["topics", "create"], "broker"),
    "topics list": (["topics", "list"], "broker"),
    "registry": (["registry"], "broker"),
    "lag": (["lag"], "broker"),
    "dashboard": (["dashboard"], "broker"),
    "links show": (["links", "show", "00T000000000001"], "broker"),
    "links find": (["links", "find"], "broker"),
    "links export": (["links", "export"], "broker"),
    "links history": (["links", "history", "00T000000000001"], "broker"),
    "dlq list": (["dlq", "list"], "broker"),
    "dlq show": (["dlq", "show", "0:1"], "broker"),
    "dlq redrive": (["dlq", "redrive", "--all"], "broker"),
    "replay": (["replay", "--flow", "task_project", "--from-beginning", "--dry-run"], "broker"),
    "cdc positions": (["cdc", "positions"], "broker"),
    "cdc run": (["cdc", "run"], "broker"),
    "cdc snapshot": (["cdc", "snapshot", "--entity", "Task"], "broker"),
    "backfill": (["backfill", "--flow", "task_project"], "broker"),
    "worker": (["worker"], "broker"),
    "sink run": (["sink", "run"], "broker"),
    "up": (["up"], "broker"),
    "flows": (["flows", "--validate"], "salesforce"),
    "mapping validate": (["mapping", "validate"], "salesforce"),
    "onboard": (["onboard", "--dry-run"], "broker"),
    "status": (["status"], "stack"),
}
#: Generous for a loaded 2-core CI machine (interpreter start and imports included); the
#: checks themselves time out after 3 s. Before, a verb took 15 s and printed ~290 lines.
SECONDS = 20
#: Verbs that talk to nothing outside their own process (or start it themselves).
SELF_CONTAINED = {
    "broker",
    "emulate salesforce",
    "emulate custompms",
    "docs dataflow",
    "bench",
    "mapping show",
    "mapping diff",
}


def leaf_verbs() -> set[str]:
    found: set[str] = set()
    ctx = click.Context(cli, info_name="sfpms")

    def walk(group: click.Group, prefix: str) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None
            path = f"{prefix}{name}"
            if isinstance(command, click.Group):
                walk(command, f"{path} ")
            else:
                found.add(path)

    walk(cli, "")
    return found


def test_every_verb_is_either_tested_here_or_needs_nothing_outside() -> None:
    verbs = leaf_verbs()
    assert verbs == set(VERBS) | SELF_CONTAINED, "classify the new verb in this file"
    for verb in SELF_CONTAINED:
        assert not preflight.RULES.get(verb), verb


def _dead_env(tmp: Path) -> tuple[dict[str, str], dict[str, str]]:
    ports = {name: free_port() for name in ("broker", "registry", "salesforce", "custompms")}
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SFPMS_")},
        "SFPMS_DATA_DIR": str(tmp / "sfpms"),
        "SFPMS_KAFKA_BOOTSTRAP": f"127.0.0.1:{ports['broker']}",
        "SFPMS_SCHEMA_REGISTRY_URL": f"http://127.0.0.1:{ports['registry']}",
        "SFPMS_SALESFORCE_URL": f"https://127.0.0.1:{ports['salesforce']}",
        "SFPMS_CUSTOMPMS_URL": f"http://127.0.0.1:{ports['custompms']}",
        # status probes the default ports of the embedded stack: point them at nothing
        **{
            f"SFPMS_{name.upper()}": str(free_port())
            for name in (
                "cdc_metrics_port",
                "sink_metrics_port",
                "worker_web_port",
                "dashboard_port",
            )
        },
    }
    expected = {
        "broker": f"no broker at 127.0.0.1:{ports['broker']}: ",
        "salesforce": f"no Salesforce at https://127.0.0.1:{ports['salesforce']}: ",
        "stack": "no stack runs here",
    }
    return env, expected


def _run(argv: list[str], env: dict[str, str]) -> tuple[int, str, float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "sfpms", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def test_each_verb_prints_one_line_naming_the_address_and_the_fix(tmp_path: Path) -> None:
    env, expected = _dead_env(tmp_path)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(
            zip(VERBS, pool.map(lambda item: _run(item[0], env), VERBS.values()), strict=True)
        )
    problems = []
    for verb, (code, output, seconds) in results.items():
        lines = output.strip().splitlines()
        wanted = expected[VERBS[verb][1]]
        if code == 0 or len(lines) != 1 or wanted not in lines[0] or seconds > SECONDS:
            problems.append(
                f"{verb}: exit {code} after {seconds:.1f}s, {len(lines)} lines:\n{output[-600:]}"
            )
        elif VERBS[verb][1] != "stack":
            assert "or set SFPMS_" in lines[0], lines[0]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("need", "variable"),
    [("registry", "SFPMS_SCHEMA_REGISTRY_URL"), ("custompms", "SFPMS_CUSTOMPMS_URL")],
)
def test_a_missing_api_is_named_with_the_setting_that_points_at_it(
    need: preflight.Need, variable: str
) -> None:
    from foundation.settings import Settings

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(schema_registry_url=url, custompms_url=url)
    with pytest.raises(preflight.Unreachable) as caught:
        preflight.CHECKS[need](settings)
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert str(caught.value).endswith(f"or set {variable}")


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (None, "needs a login: set SFPMS_SCHEMA_REGISTRY_USER and SFPMS_SCHEMA_REGISTRY_PASSWORD"),
        ("sync", "refuses the configured login: set SFPMS_SCHEMA_REGISTRY_USER"),
    ],
)
def test_a_registry_that_refuses_the_login_is_named_with_the_settings_to_fix(
    user: str | None, expected: str
) -> None:
    from pydantic import SecretStr

    from foundation.settings import Settings
    from sfpms.registry.app import Registry, create_registry_app
    from sfpms.registry.auth import BasicAuth
    from sfpms.registry.log import MemoryLog
    from tests.support.servers import serve_in_thread

    auth = BasicAuth("sync", SecretStr("the-registry-password"))
    with serve_in_thread(create_registry_app(Registry(MemoryLog()), auth=auth)) as server:
        wrong = SecretStr("not-the-password") if user else None
        settings = Settings(
            schema_registry_url=server.url,
            schema_registry_user=user,
            schema_registry_password=wrong,
        )
        with pytest.raises(preflight.Unreachable) as caught:
            preflight.CHECKS["registry"](settings)
        assert expected in str(caught.value)
        assert "not-the-password" not in str(caught.value)
        right = settings.model_copy(update={"schema_registry_password": auth.password})
        if user:
            preflight.CHECKS["registry"](right)  # the right login passes


def test_a_server_that_would_refuse_to_listen_says_so_before_looking_for_a_broker(
    tmp_path: Path,
) -> None:
    env, _ = _dead_env(tmp_path)
    env["SFPMS_DASHBOARD_TOKEN"] = ""
    for argv, setting in (
        (["registry", "--host", "0.0.0.0"], "SFPMS_SCHEMA_REGISTRY_PASSWORD"),
        (["dashboard", "--host", "0.0.0.0"], "SFPMS_DASHBOARD_TOKEN"),
    ):
        code, output, _seconds = _run(argv, env)
        assert code == 1, output
        assert setting in output and "no broker" not in output, output
        assert len(output.strip().splitlines()) == 1, output


def test_a_server_that_drops_the_probe_counts_as_there() -> None:
    """A dropped or reset exchange is a flaky server, not a missing one: the fault suite's
    sink exited at start on one injected drop. The verb's own clients retry it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    accepted: list[int] = []

    def drop_each() -> None:
        while len(accepted) < 1:
            connection, _ = listener.accept()
            accepted.append(1)
            connection.close()  # no answer: the client sees the connection dropped

    thread = threading.Thread(target=drop_each, daemon=True)
    thread.start()
    settings = Settings(custompms_url=f"http://127.0.0.1:{port}")
    try:
        preflight.CHECKS["custompms"](settings)  # no Unreachable
    finally:
        thread.join(5)
        listener.close()
    assert accepted == [1]


def test_a_server_that_refuses_connections_is_unreachable_after_the_retries() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there
    settings = Settings(custompms_url=f"http://127.0.0.1:{port}")
    with pytest.raises(preflight.Unreachable, match="no Custompms API at"):
        preflight.CHECKS["custompms"](settings)
