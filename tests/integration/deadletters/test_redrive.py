"""`sfpms dlq redrive` on a real broker: dead letters go back with their key, a cut-short copy
is sent from the original, and what was re-driven is recorded so `--all` twice sends once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from foundation.deadletters import dead_letter
from foundation.kafka import topics as t
from foundation.kafka.admin import ensure_topics
from foundation.kafka.serde import TopicCodec, registry_client
from foundation.settings import Settings
from sfpms.deadletters import read_dead_letters, read_redriven, redrive_records
from tests.support.stack import with_registry

pytestmark = pytest.mark.integration

CHANGES = t.changes_topic("salesforce", "task")
WRITES = t.writes_topic("custompms")


@pytest.fixture
def wired(settings: Settings) -> Iterator[Settings]:
    ensure_topics(settings, t.catalogue())
    with with_registry(settings) as configured:
        yield configured


def _produce(settings: Settings, topic: str, key: bytes, value: bytes) -> tuple[int, int]:
    where: list[tuple[int, int]] = []
    producer = Producer(settings.producer_config())
    producer.produce(
        settings.topic(topic),
        key=key,
        value=value,
        on_delivery=lambda _e, m: where.append((m.partition() or 0, m.offset() or 0)),
    )
    assert producer.flush(15) == 0
    return where[0]


def _records(settings: Settings, topic: str) -> list[tuple[int, bytes | None, bytes | None]]:
    consumer = Consumer(settings.consumer_config(settings.topic(f"read-{os.urandom(4).hex()}")))
    name = settings.topic(topic)
    found: list[tuple[int, bytes | None, bytes | None]] = []
    try:
        partitions = consumer.list_topics(name, timeout=10).topics[name].partitions
        consumer.assign([TopicPartition(name, p, OFFSET_BEGINNING) for p in partitions])
        idle = 0
        while idle < 15:
            msg = consumer.poll(0.2)
            if msg is None:
                idle += 1
                continue
            if not msg.error():
                found.append((int(msg.partition() or 0), msg.key(), msg.value()))
    finally:
        consumer.close()
    return found


def _letter(settings: Settings, **fields: Any) -> None:
    codec = TopicCodec(settings, registry_client(settings), t.DEADLETTER)
    letter = dead_letter(failed_at=datetime.now(UTC), error_class="E", reason="r", **fields)
    _produce(settings, t.DEADLETTER, letter.message_key, codec.encode(letter.to_record()))


def test_redrive_keeps_keys_sends_cut_short_records_from_the_original_and_sends_each_once(
    wired: Settings,
) -> None:
    # A change the engine could not map: its key decides its partition.
    change = b"\x00" + os.urandom(40)
    partition, offset = _produce(wired, CHANGES, b"00T5e00000KeyedAAA", change)
    _letter(
        wired,
        stage="engine",
        topic=CHANGES,
        partition=partition,
        offset=offset,
        key=b"00T5e00000KeyedAAA",
        value=change,
        record="00T5e00000KeyedAAA",
        flow="task_project",
        field="Subject",
    )
    # A write command near the size limit: the dead letter keeps only its start.
    big = os.urandom(200_000)
    big_at = _produce(wired, WRITES, b"00T5e00000BigAAAAA", big)
    _letter(
        wired,
        stage="sink",
        topic=WRITES,
        partition=big_at[0],
        offset=big_at[1],
        key=b"00T5e00000BigAAAAA",
        value=big,
        record="00T5e00000BigAAAAA",
    )
    letters = read_dead_letters(wired)
    assert len(letters) == 2 and any(r["truncated"] for _p, _o, r in letters)

    first = redrive_records(wired, letters)
    assert len(first.sent) == 2 and not first.skipped and not first.already
    again = redrive_records(wired, read_dead_letters(wired))
    assert again.sent == [] and sorted(again.already) == sorted(first.sent)
    assert set(read_redriven(wired)) == set(first.sent)

    changes = [r for r in _records(wired, CHANGES) if r[1] == b"00T5e00000KeyedAAA"]
    assert [(p, v) for p, _k, v in changes] == [(partition, change)] * 2, "same key, same partition"
    writes = [r for r in _records(wired, WRITES) if r[1] == b"00T5e00000BigAAAAA"]
    assert len(writes) == 2 and writes[1][2] == big, "the original, not the cut-short copy"

    forced = redrive_records(wired, read_dead_letters(wired), again=True)
    assert len(forced.sent) == 2
