"""`sfpms up` brings the whole embedded stack up by the components' own /readyz, and
`sfpms status` reports it from the same endpoints; Ctrl-C (SIGTERM) stops all of it.
Every port is a free one and the data directory a temporary one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sfpms.embedded.broker import free_port
from sfpms.embedded.process import ManagedProcess
from tests.support.harness import HarnessSettings
from tests.support.live import eventually

pytestmark = pytest.mark.integration

PORTS = (
    "broker_port",
    "registry_port",
    "salesforce_emulator_port",
    "custompms_emulator_port",
    "cdc_metrics_port",
    "sink_metrics_port",
    "worker_web_port",
    "dashboard_port",
)


@pytest.mark.timeout(600)
def test_up_starts_every_component_and_status_sees_each_ready(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SFPMS_")}
    env |= {f"SFPMS_{name.upper()}": str(free_port()) for name in PORTS}
    env |= {
        "SFPMS_DATA_DIR": str(tmp_path / "sfpms"),
        "SFPMS_PARTITIONS": "2",
        "SFPMS_BROKER_ENGINE": HarnessSettings().test_broker,
    }
    up = ManagedProcess(
        name="up",
        argv=[sys.executable, "-m", "sfpms", "up", "--timeout", "120"],
        log_path=tmp_path / "up.log",
        env=env,
    )
    up.start()
    state = tmp_path / "sfpms" / "stack.json"
    try:

        def started() -> bool:
            if not up.alive():
                raise AssertionError((tmp_path / "up.log").read_text()[-3000:])
            return state.exists()

        eventually(started, timeout=300, what="sfpms up to start every component")
        done = subprocess.run(
            [sys.executable, "-m", "sfpms", "status", "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        rows = {row["name"]: row for row in json.loads(done.stdout)["components"]}
        assert set(rows) == {
            "broker",
            "registry",
            "salesforce-emulator",
            "salesforce-pubsub",  # the emulator's Pub/Sub API, on its own port
            "custompms-emulator",
            "cdc",
            "engine-worker",
            "sinks",
            "dashboard",
        }
        assert {name: row["state"] for name, row in rows.items()} == dict.fromkeys(rows, "up")
        assert done.returncode == 0
        assert all(row["pid"] for row in rows.values())
    finally:
        up.stop(grace=60)
    assert not state.exists()  # stopped cleanly: the stack file is gone
    after = subprocess.run(
        [sys.executable, "-m", "sfpms", "status"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert after.returncode == 1
    assert after.stderr.strip().startswith("Error: no stack runs here")
