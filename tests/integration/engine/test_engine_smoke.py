"""The engine as a real `sfpms worker` process on a real broker: changes in, writes out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer

from foundation.kafka import topics as t
from foundation.kafka.admin import ensure_topics
from foundation.kafka.serde import TopicCodec, registry_client
from foundation.settings import Settings
from tests.support.stack import EngineWorker, with_registry

pytestmark = [pytest.mark.integration, pytest.mark.smoke]


@pytest.fixture
def stack_settings(settings: Settings) -> Iterator[Settings]:
    ensure_topics(settings, t.catalogue())
    with with_registry(settings) as configured:
        yield configured


def produce(settings: Settings, topic: str, key: str, value: dict[str, Any]) -> None:
    codec = TopicCodec(settings, registry_client(settings), topic)
    producer = Producer(settings.producer_config())
    producer.produce(settings.topic(topic), key=key.encode(), value=codec.encode(value))
    assert producer.flush(15) == 0


def consume(
    settings: Settings, topic: str, count: int, timeout: float = 60
) -> list[dict[str, Any]]:
    codec = TopicCodec(settings, registry_client(settings), topic)
    consumer = Consumer(settings.consumer_config(f"t-{topic}"))
    consumer.subscribe([settings.topic(topic)])
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < count and time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is not None and not msg.error():
                value = msg.value()
                assert value is not None
                found.append(codec.decode(value))
    finally:
        consumer.close()
    return found


def test_salesforce_task_change_becomes_one_command_creating_its_project_and_task(
    stack_settings: Settings, tmp_path: Path
) -> None:
    worker = EngineWorker(stack_settings, tmp_path, check_schemas=False)  # no APIs here
    worker.start()
    try:
        now = datetime.now(UTC)
        produce(
            stack_settings,
            t.changes_topic("salesforce", "task"),
            "00T000000000001AAA",
            {
                "op": "c",
                "before": None,
                "after": {
                    "Id": "00T000000000001AAA",
                    "Subject": "Call Acme",
                    "Status": "In Progress",
                    "Priority": "High",
                    "SystemModstamp": now,
                },
                "source": {
                    "system": "salesforce",
                    "entity": "Task",
                    "id": "00T000000000001AAA",
                    "modstamp": now,
                    "origin": "person",
                },
                "ts_ms": now,
            },
        )
        commands = consume(stack_settings, t.writes_topic("custompms"), 1)
        assert commands, f"no write command; worker log:\n{worker.log_tail()}"
        command = commands[0]
        project, task = command["ops"]  # created together: the Task refers to the Project
        assert (project["action"], project["flow"]) == ("create", "task_project")
        assert project["fields"]["name"] == "Call Acme"
        assert project["fields"]["status"] == "active"
        assert (task["action"], task["flow"], task["refs"]) == (
            "create",
            "task_task",
            {"project_id": 0},
        )
        assert command["link_key"] == "00T000000000001AAA"
    finally:
        worker.stop()
