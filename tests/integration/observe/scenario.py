"""Real topics, records, commits and dead letters for the lag and dashboard tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from confluent_kafka import Consumer, Producer, TopicPartition

from foundation.kafka import topics as t
from foundation.kafka.admin import ensure_topics
from foundation.settings import Settings
from sfpms.observe.deadletters import encode


def produce(settings: Settings, topic: str, per_partition: dict[int, int]) -> None:
    """Write `n` small records to each partition (settings' producer config, so Tansu-safe)."""
    producer = Producer(settings.producer_config())
    for partition, count in per_partition.items():
        for i in range(count):
            producer.produce(topic, key=f"k{i}".encode(), value=b"v", partition=partition)
    assert producer.flush(15) == 0, f"records to {topic} were not acknowledged"


def consume_and_commit(
    settings: Settings, group: str, topic: str, per_partition: dict[int, int]
) -> None:
    """Read `m` records from the start of each partition and commit after the last one read."""
    consumer = Consumer(settings.consumer_config(group))
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in per_partition])
        remaining = {p: m for p, m in per_partition.items() if m > 0}
        last: dict[int, int] = {}
        deadline = time.monotonic() + 20
        while any(remaining.values()) and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is None or message.error() is not None:
                continue
            partition = int(message.partition() or 0)
            if remaining.get(partition, 0) <= 0:
                continue
            last[partition] = int(message.offset() or 0)
            remaining[partition] -= 1
        assert not any(remaining.values()), f"could not read enough records: {remaining}"
        offsets = [TopicPartition(topic, p, o + 1) for p, o in last.items()]
        if offsets:
            consumer.commit(offsets=offsets, asynchronous=False)
    finally:
        consumer.close()


def dead_letter(flow: str, record: str, reason: str) -> dict[str, object]:
    return {
        "stage": "sink",
        "topic": None,
        "partition": None,
        "offset": None,
        "key": record.encode(),
        "value": b"payload-bytes-never-shown",
        "error_class": "FatalError",
        "reason": reason,
        "flow": flow,
        "record": record,
        "field": "name",
        "attempts": 1,
        "failed_at": datetime.now(UTC),
    }


@dataclass(frozen=True)
class Lagging:
    """What the scenario built, with the figures a reader should see."""

    engine: str
    sink: str
    task_changes: str
    project_writes: str
    task_lag: dict[int, int]  # engine lag per partition of salesforce.task.changes
    project_lag: dict[int, int]  # sink lag per partition of custompms.writes
    flow_lag: dict[str, int]
    dlq: int


@contextmanager
def lagging_deployment(settings: Settings) -> Iterator[Lagging]:
    """Engine behind on Task changes (nobody consumes: it will STOP), the Custompms sink
    behind on its write topic with a live member that does not commit (STALL), and three
    dead letters. The live member stays in the group until the block ends. Every flow
    writes to Custompms through the one write topic, so every flow shares the sink's lag;
    only the two Task flows read the Task changes."""
    ensure_topics(settings, t.catalogue())
    engine = settings.topic("sfpms-engine")
    sink = settings.topic("sfpms-sink-custompms")
    task_changes = settings.topic("salesforce.task.changes")
    project_writes = settings.topic("custompms.writes")

    produce(settings, task_changes, {0: 5, 1: 2, 2: 0, 3: 1})
    consume_and_commit(settings, engine, task_changes, {0: 3, 1: 2, 2: 0, 3: 0})
    produce(settings, project_writes, {0: 4, 1: 4, 2: 4, 3: 4})

    member = Consumer(settings.consumer_config(sink))
    member.subscribe([project_writes])
    deadline = time.monotonic() + 30
    while not member.assignment() and time.monotonic() < deadline:
        member.poll(0.2)
    assert member.assignment(), "the sink member did not join its group"
    member.commit(
        offsets=[TopicPartition(project_writes, p, o) for p, o in {0: 4, 1: 1, 2: 4, 3: 4}.items()],
        asynchronous=False,
    )

    producer = Producer(settings.producer_config())
    dlq = settings.topic(t.DEADLETTER)
    letters = [
        dead_letter("task_project", "00T000000000001", "422 name is required"),
        dead_letter("task_project", "00T000000000002", "422 due date before start"),
        dead_letter("division_customer", "a01000000000001", "409 duplicate customer"),
    ]
    for letter in letters:
        producer.produce(dlq, key=str(letter["record"]).encode(), value=encode(letter))
    assert producer.flush(15) == 0
    try:
        yield Lagging(
            engine=engine,
            sink=sink,
            task_changes=task_changes,
            project_writes=project_writes,
            task_lag={0: 2, 1: 0, 2: 0, 3: 1},
            project_lag={0: 0, 1: 3, 2: 0, 3: 0},
            flow_lag={
                "task_project": 3 + 3,
                "task_task": 3 + 3,
                "division_customer": 3,
                "organization_customer": 3,
            },
            dlq=len(letters),
        )
    finally:
        member.close()


@dataclass(frozen=True)
class RunningDashboard:
    """A dashboard served on 127.0.0.1 over a deployment that lags (conftest.py serves it)."""

    url: str
    settings: Settings
    lagging: Lagging
    token: str
