"""A worker whose outputs cannot be produced stops before the batch is acknowledged, and a
restarted worker processes that batch again: no change is lost to a broken output path."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from foundation.kafka import topics as t
from foundation.kafka.admin import ensure_topics
from foundation.settings import Settings
from sfpms.embedded.broker import free_port
from streams.engine.checkpoint import EXIT_OUTPUT_FAILED
from tests.integration.engine.test_engine_smoke import consume, produce
from tests.support.stack import EngineWorker, with_registry

pytestmark = pytest.mark.integration


@pytest.fixture
def stack_settings(settings: Settings) -> Iterator[Settings]:
    ensure_topics(settings, t.catalogue())
    with with_registry(settings) as configured:
        yield configured


def task_change(task_id: str) -> dict[str, object]:
    now = datetime.now(UTC)
    record = {
        "Id": task_id,
        "Subject": "Kept",
        "Status": "Not Started",
        "Priority": "Normal",
        "SystemModstamp": now,
    }
    source = {"system": "salesforce", "entity": "Task", "id": task_id, "modstamp": now}
    return {"op": "c", "before": None, "after": record, "source": source, "ts_ms": now}


def test_a_worker_that_cannot_produce_stops_and_its_batch_is_processed_after_restart(
    stack_settings: Settings, tmp_path: Path
) -> None:
    # The engine's output producer points at a port nobody listens on: every output fails.
    broken = stack_settings.model_copy(
        update={
            "kafka_producer_config": {
                "bootstrap.servers": f"127.0.0.1:{free_port()}",
                "message.timeout.ms": 3000,
            }
        }
    )
    failing = EngineWorker(broken, tmp_path, "worker", check_schemas=False)
    failing.start()
    task_id = "00T0000000KEPT1"
    produce(stack_settings, t.changes_topic("salesforce", "task"), task_id, task_change(task_id))
    deadline = time.monotonic() + 90
    while failing.process.alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert failing.process.returncode() == EXIT_OUTPUT_FAILED, failing.log_tail()
    assert "processed again when the worker restarts" in failing.log_tail()

    healthy = EngineWorker(stack_settings, tmp_path, "worker", check_schemas=False)
    healthy.start()
    try:
        commands = consume(stack_settings, t.writes_topic("custompms"), 1, timeout=90)
        assert commands, f"the batch was lost; worker log:\n{healthy.log_tail()}"
        assert commands[0]["link_key"] == task_id
    finally:
        healthy.stop()
