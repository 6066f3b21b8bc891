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
        """Every keyed record of the schemas topic, in order (tombstones included)."""
        from foundation.kafka.tail import read_to_end  # confluent-kafka only when replaying

        config = self.settings.consumer_config("sfpms-registry-replay")
        return [
            (r.key, r.value)
            for r in read_to_end(config, self.topic, partitions=(0,))
            if r.key is not None
        ]

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
