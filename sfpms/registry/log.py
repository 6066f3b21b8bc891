"""Where the registry's records live: the compacted `_schemas` topic (or memory, for tests)."""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

from foundation.kafka.admin import ensure_topics
from foundation.kafka.topics import TopicSpec
from foundation.settings import Settings

log = logging.getLogger(__name__)


class SchemaLog(Protocol):
    """Append-only keyed records, replayed in order on start."""

    def replay(self) -> list[tuple[bytes, bytes | None]]: ...

    def append(self, key: bytes, value: bytes | None) -> None: ...


class MemoryLog:
    """A `SchemaLog` in a list (unit tests)."""

    def __init__(self) -> None:
        self.records: list[tuple[bytes, bytes | None]] = []

    def replay(self) -> list[tuple[bytes, bytes | None]]:
        return list(self.records)

    def append(self, key: bytes, value: bytes | None) -> None:
        self.records.append((key, value))


class KafkaLog:
    """A `SchemaLog` in a one-partition compacted topic, as Confluent's registry keeps it."""

    def __init__(self, settings: Settings, topic: str = "_schemas") -> None:
        from confluent_kafka import Producer

        self.settings = settings
        self.topic = settings.topic(topic)
        ensure_topics(
            settings,
            [TopicSpec(topic, partitions=1, compacted=True, purpose="schema registry storage")],
        )
        self._lock = threading.Lock()
        # One record per batch keeps end offsets exact on brokers that misreport them for
        # multi-record batches (Tansu); the registry writes rarely, so it costs nothing.
        self._producer: Any = Producer(
            settings.producer_config(**{"batch.num.messages": 1, "linger.ms": 0})
        )

    def close(self) -> None:
        """Let go of the producer now. FastAPI caches route dependencies for the life of the
        process, so an app that stopped serving keeps this log alive, and a producer kept
        alive past its broker logs a reconnect error every second until exit."""
        with self._lock:
            if self._producer is not None:
                self._producer.flush(5)
                self._producer = None

    def replay(self) -> list[tuple[bytes, bytes | None]]:
        from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

        consumer = Consumer(self.settings.consumer_config("sfpms-registry-replay"))
        try:
            _low, high = consumer.get_watermark_offsets(
                TopicPartition(self.topic, 0), timeout=10, cached=False
            )
            records: list[tuple[bytes, bytes | None]] = []
            if high <= 0:
                return records
            consumer.assign([TopicPartition(self.topic, 0, OFFSET_BEGINNING)])
            position = -1
            idle = 0
            while position < high - 1 and idle < 100:
                msg = consumer.poll(0.1)
                if msg is None:
                    idle += 1
                    continue
                if msg.error():
                    raise RuntimeError(f"reading {self.topic}: {msg.error()}")
                idle = 0
                offset = msg.offset()
                position = offset if offset is not None else position
                key = msg.key()
                if key is not None:
                    records.append((key, msg.value()))
            if position < high - 1:
                raise RuntimeError(
                    f"could not read {self.topic} to its end (offset {position} of {high})"
                )
            return records
        finally:
            consumer.close()

    def append(self, key: bytes, value: bytes | None) -> None:
        errors: list[str] = []

        def on_delivery(err: object, _msg: object) -> None:
            if err is not None:
                errors.append(str(err))

        with self._lock:
            if self._producer is None:
                raise RuntimeError(f"the registry log of {self.topic} is closed")
            self._producer.produce(self.topic, key=key, value=value, on_delivery=on_delivery)
            remaining = self._producer.flush(15)
        if remaining or errors:
            raise RuntimeError(f"could not write to {self.topic}: {errors or 'flush timed out'}")
