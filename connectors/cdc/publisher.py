"""The Kafka side of one CDC source: envelopes, dead letters and acknowledged checkpoints.

One idempotent, acks=all, murmur2-partitioned producer per source (`settings.
producer_config()`), so a key lands in the partition the Faust engine expects. `publish`
only enqueues; `checkpoint(position)` waits until the broker has acknowledged every envelope
enqueued so far and only then writes the position, like Kafka Connect's source offsets: a
crash can re-publish a few envelopes but never skip one.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from connectors.cdc.changes import Emission, dead_letter
from connectors.cdc.convert import EnvelopeError
from connectors.cdc.metrics import CdcMetrics
from connectors.cdc.positions import Position
from foundation import killpoints
from foundation.errors import ConfigError, RetriableError
from foundation.kafka import topics as t
from foundation.kafka.serde import TopicCodec
from foundation.settings import Settings

log = logging.getLogger(__name__)

#: Errors that mean "this message can never be produced as it is" (not "try again").
_TOO_LARGE = frozenset(
    {
        KafkaError.MSG_SIZE_TOO_LARGE,  # librdkafka's message.max.bytes or the broker's
        KafkaError.INVALID_MSG_SIZE,
        KafkaError.RECORD_LIST_TOO_LARGE,
    }
)


class Publisher:
    """Produce envelopes of one source and commit its positions after acknowledgement."""

    def __init__(
        self,
        settings: Settings,
        registry: SchemaRegistryClient,
        metrics: CdcMetrics,
        source: str,
        *,
        flush_timeout_s: float = 30.0,
    ) -> None:
        self.settings = settings
        self.source = source
        self.metrics = metrics
        self.flush_timeout_s = flush_timeout_s
        self._registry = registry
        self._codecs: dict[str, TopicCodec] = {}
        self._lock = threading.Lock()
        self._failures: list[str] = []
        #: Envelopes the broker refused for their size: (topic, key, size), dead-lettered.
        self._refused: list[tuple[str, bytes, int]] = []
        self._producer = self._new_producer()

    def _new_producer(self) -> Producer:
        return Producer(self.settings.producer_config(**{"client.id": f"sfpms-cdc-{self.source}"}))

    def codec(self, topic: str) -> TopicCodec:
        """The codec of an (unprefixed) catalogue topic."""
        if topic not in self._codecs:
            self._codecs[topic] = TopicCodec(self.settings, self._registry, topic)
        return self._codecs[topic]

    def register(self, topics: Iterable[str]) -> None:
        """Register the value schemas up front, so a registry problem stops the start-up
        instead of dead-lettering records later. Blocking. A schema the registry refuses
        as incompatible (a mapping row changed a field's type) is a ConfigError."""
        for topic in [*topics, t.DEADLETTER, t.SOURCE_POSITIONS]:
            try:
                self.codec(topic).register()
            except SchemaRegistryError as exc:
                if exc.http_status_code != 409:
                    raise
                from connectors.schemas_live import INCOMPATIBLE_FIX

                raise ConfigError(
                    f"the schema registry refuses the change-envelope schema of {topic}, which "
                    f"the mapping file generates: {exc.error_message}; {INCOMPATIBLE_FIX}"
                ) from exc

    # -- producing ------------------------------------------------------------------------

    def _on_delivery(self, err: Any, msg: Any) -> None:
        if err is None:
            return
        with self._lock:
            dead_letters = self.settings.topic(t.DEADLETTER)
            if err.code() in _TOO_LARGE and msg.topic() != dead_letters:
                # Read again, it would be refused again: dead-letter it, do not stall.
                self._refused.append((str(msg.topic()), msg.key() or b"", len(msg.value() or b"")))
            else:
                self._failures.append(f"{msg.topic()}: {err}")

    def _produce(self, topic: str, key: bytes, value: bytes) -> None:
        """Enqueue; raises `KafkaException` when librdkafka refuses the message itself."""
        full = self.settings.topic(topic)
        for _ in range(600):
            try:
                self._producer.produce(full, key=key, value=value, on_delivery=self._on_delivery)
                break
            except BufferError:
                # The local queue is full: serve delivery reports until there is room.
                self._producer.poll(0.1)
        else:
            raise RetriableError(f"the producer queue for {full} stayed full for 60 s")
        self._producer.poll(0)

    def publish(self, emission: Emission) -> None:
        """Encode and enqueue one envelope; EnvelopeError when the schema refuses it."""
        codec = self.codec(emission.topic)
        try:
            value = codec.encode(emission.value)
        except (ValueError, TypeError, OverflowError) as exc:
            raise EnvelopeError(
                f"the Avro serializer refused {emission.system} {emission.entity} "
                f"{emission.key.decode()} for {codec.schema_name} ({type(exc).__name__}); "
                "compare the record with the schema, fix it, then re-drive it from the "
                "dead-letter topic",
                system=emission.system,
                entity=emission.entity,
                record=emission.key.decode(),
                field=None,
            ) from exc
        try:
            self._produce(emission.topic, emission.key, value)
        except KafkaException as exc:
            if exc.args[0].code() not in _TOO_LARGE:
                raise
            raise EnvelopeError(
                f"the envelope of {emission.system} {emission.entity} {emission.key.decode()} is "
                f"{len(value)} bytes, over the producer's message size limit "
                f"(message.max.bytes); shorten the record in {emission.system} (or raise the "
                "limit on the producers and the broker), then re-drive it",
                system=emission.system,
                entity=emission.entity,
                record=emission.key.decode(),
                field=None,
            ) from exc
        self.metrics.published(emission.system, emission.entity, emission.op, emission.modstamp)

    def dead_letter(
        self, error: Exception, *, system: str, entity: str, key: str | None, raw: bytes
    ) -> None:
        """Enqueue a DeadLetter for a record that cannot be published, and log it."""
        now = datetime.now(UTC)
        letter = dead_letter(error, key=key, value=raw, now=now, system=system, entity=entity)
        log.warning("dead-lettered %s %s %s: %s", system, entity, key, letter.reason)
        value = self.codec(t.DEADLETTER).encode(letter.to_record())
        self._produce(t.DEADLETTER, letter.message_key, value)
        self.metrics.dead_letters.labels(system, entity).inc()

    def _dead_letter_refused(self) -> bool:
        """Dead-letter the envelopes the broker refused for their size; True if any."""
        with self._lock:
            refused, self._refused = self._refused, []
        for topic, key, size in refused:
            catalogue = topic[len(self.settings.topic_prefix) :]
            system, entity = [*catalogue.split("."), "?", "?"][:2]
            error = RuntimeError(
                f"the broker refused the {size}-byte envelope of {system} {entity} "
                f"{key.decode(errors='replace')} for its size (MSG_SIZE_TOO_LARGE); raise the "
                "broker's message.max.bytes or shorten the record, then re-drive it"
            )
            self.dead_letter(
                error, system=system, entity=entity, key=key.decode(errors="replace"), raw=b""
            )
        return bool(refused)

    # -- acknowledgement ------------------------------------------------------------------

    async def flush(self) -> None:
        """Wait until the broker acknowledged everything enqueued; RetriableError if not."""
        deadline = time.monotonic() + self.flush_timeout_s
        try:
            remaining = await asyncio.to_thread(self._producer.flush, self.flush_timeout_s)
            while remaining and time.monotonic() < deadline:
                remaining = await asyncio.to_thread(self._producer.flush, 1.0)
            if self._dead_letter_refused():
                remaining = await asyncio.to_thread(self._producer.flush, self.flush_timeout_s)
        except (KafkaException, SystemError) as exc:
            # A fatal producer error (e.g. OUT_OF_ORDER_SEQUENCE_NUMBER after the broker lost
            # an acknowledged write; SystemError when it surfaces inside the delivery
            # callback): this producer is finished, the caller resets and reads again.
            raise RetriableError(
                f"CDC {self.source}: the producer failed ({type(exc).__name__}: {exc}); "
                "the position is not advanced and the changes will be read again"
            ) from exc
        with self._lock:
            failures, self._failures = self._failures, []
        if remaining or failures:
            detail = "; ".join(failures[:3]) or f"{remaining} still unacknowledged"
            raise RetriableError(
                f"CDC {self.source}: the broker did not acknowledge every envelope ({detail}); "
                "the position is not advanced and the changes will be read again"
            )

    async def checkpoint(self, position: Position) -> None:
        """Store `position` once every envelope before it is acknowledged."""
        await self.flush()
        killpoints.reached("cdc.after_publish")
        record = position.to_record(datetime.now(UTC))
        value = self.codec(t.SOURCE_POSITIONS).encode(record)
        self._produce(t.SOURCE_POSITIONS, position.source.encode(), value)
        await self.flush()
        self.metrics.positions.labels(self.source).inc()
        log.debug("committed position %s", position)

    def reset(self) -> None:
        """Drop unacknowledged work and start a fresh producer (after a failed checkpoint,
        an idempotent producer may be in a fatal state)."""
        self._discard(self._producer)
        with self._lock:
            self._failures = []
        self._producer = self._new_producer()

    @staticmethod
    def _discard(producer: Producer) -> None:
        try:
            producer.purge()
            producer.flush(0)
            producer.close()
        except (KafkaException, RuntimeError):
            log.debug("closing the old producer failed", exc_info=True)

    def close(self) -> None:
        """Flush what is left (best effort, bounded), then close the producer."""
        remaining = self._producer.flush(min(self.flush_timeout_s, 10.0))
        if remaining:
            log.warning("CDC %s: %d envelopes unacknowledged at shutdown", self.source, remaining)
        self._discard(self._producer)
