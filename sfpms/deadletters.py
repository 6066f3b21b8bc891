"""Read the dead-letter topic and re-send dead letters to where they came from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from foundation.kafka import topics as t
from foundation.kafka.serde import TopicCodec, registry_client
from foundation.settings import Settings


def read_dead_letters(settings: Settings) -> list[tuple[int, int, dict[str, Any]]]:
    """Every dead letter now in the topic, as (partition, offset, record), oldest first."""
    codec = TopicCodec(settings, registry_client(settings), t.DEADLETTER)
    name = settings.topic(t.DEADLETTER)
    consumer = Consumer(settings.consumer_config(settings.topic("sfpms-dlq-reader")))
    try:
        metadata = consumer.list_topics(name, timeout=15).topics.get(name)
        if metadata is None:
            return []
        ends: dict[int, int] = {}
        for p in metadata.partitions:
            _low, high = consumer.get_watermark_offsets(TopicPartition(name, p), timeout=15)
            if high > 0:
                ends[p] = high
        consumer.assign([TopicPartition(name, p, OFFSET_BEGINNING) for p in ends])
        found: list[tuple[int, int, dict[str, Any]]] = []
        idle = 0
        while ends and idle < 50:
            msg = consumer.poll(0.1)
            if msg is None:
                idle += 1
                continue
            idle = 0
            if msg.error():
                continue
            partition, offset = int(msg.partition() or 0), int(msg.offset() or 0)
            found.append((partition, offset, codec.decode(msg.value() or b"")))
            if offset >= ends[partition] - 1:
                del ends[partition]
        return sorted(found, key=lambda item: item[2]["failed_at"])
    finally:
        consumer.close()


def redrive_records(settings: Settings, records: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """Re-produce each dead letter's original bytes to its original (catalogue) topic."""
    producer = Producer(settings.producer_config())
    sent = skipped = 0
    for record in records:
        if not record.get("topic") or record.get("value") is None:
            skipped += 1
            continue
        producer.produce(
            settings.topic(record["topic"]), key=record.get("key"), value=record["value"]
        )
        sent += 1
    if producer.flush(30) > 0:
        raise RuntimeError("re-sent records were not acknowledged by the broker")
    return sent, skipped
