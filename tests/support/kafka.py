"""Produce and consume Avro records of catalogue topics in tests (real broker)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from confluent_kafka import Consumer, Producer

from foundation.kafka.serde import TopicCodec, registry_client
from foundation.settings import Settings


def produce(settings: Settings, topic: str, records: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Produce (key, value) pairs to an unprefixed catalogue topic and wait for the acks."""
    codec = TopicCodec(settings, registry_client(settings), topic)
    producer = Producer(settings.producer_config())
    for key, value in records:
        producer.produce(settings.topic(topic), key=key.encode(), value=codec.encode(value))
    assert producer.flush(15) == 0


class TopicReader:
    """Reads a catalogue topic from the beginning, decoding values, across calls."""

    def __init__(self, settings: Settings, topic: str, group: str | None = None) -> None:
        self.codec = TopicCodec(settings, registry_client(settings), topic)
        self.consumer = Consumer(settings.consumer_config(group or settings.topic(f"read-{topic}")))
        self.consumer.subscribe([settings.topic(topic)])
        self.records: list[dict[str, Any]] = []
        self.keys: list[bytes | None] = []

    def read(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Poll until `count` records have been read in total (or the timeout)."""
        deadline = time.monotonic() + timeout
        while len(self.records) < count and time.monotonic() < deadline:
            msg = self.consumer.poll(0.2)
            if msg is not None and not msg.error():
                self.records.append(self.codec.decode(msg.value() or b""))
                self.keys.append(msg.key())
        return self.records

    def drain(self, quiet: float = 1.0) -> list[dict[str, Any]]:
        """Read until nothing arrives for `quiet` seconds."""
        last = time.monotonic()
        while time.monotonic() - last < quiet:
            msg = self.consumer.poll(0.1)
            if msg is not None and not msg.error():
                self.records.append(self.codec.decode(msg.value() or b""))
                self.keys.append(msg.key())
                last = time.monotonic()
        return self.records

    def close(self) -> None:
        self.consumer.close()
