"""The sink worker loop: consume write commands, apply them in batches, publish results.

Per batch: decode, apply through the target adapter (retrying transient failures with
backoff, honouring Retry-After), publish a WriteResult per command and a dead letter per
refused command, wait for the broker to acknowledge those, and only then commit the
consumed offsets. A crash anywhere re-delivers the batch, and the adapters make a second
apply harmless (idempotency keys, upsert by external id, deletes of the already deleted).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from confluent_kafka import Consumer, Message, Producer, TopicPartition

from connectors.sinks.model import Applied, dead_letter, write_result
from foundation import metrics
from foundation.errors import RetriableError
from foundation.kafka import topics as t
from foundation.kafka.serde import TopicCodec, registry_client
from foundation.settings import Settings, SinkSystemSettings
from streams.core.envelopes import result_key

log = logging.getLogger(__name__)

ENTITIES = {"salesforce": t.SALESFORCE_OBJECTS, "custompms": t.CUSTOMPMS_RESOURCES}


class Target(Protocol):
    system: str

    async def apply(self, commands: Sequence[Mapping[str, Any]]) -> list[Applied]: ...


class SinkWorker:
    """Consumes one system's write topics and applies them with `target`."""

    def __init__(
        self,
        settings: Settings,
        system: str,
        target: Target,
        options: SinkSystemSettings | None = None,
        instance_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.system = system
        self.target = target
        self.options = options or settings.sinks.for_system(system)
        client = registry_client(settings)
        self.topics = [t.writes_topic(system, e) for e in ENTITIES[system]]
        self.commands = {
            settings.topic(name): TopicCodec(settings, client, name) for name in self.topics
        }
        self.results = TopicCodec(settings, client, t.ACKS)
        self.dead_letters = TopicCodec(settings, client, t.DEADLETTER)
        extra: dict[str, Any] = {"max.poll.interval.ms": 600000}
        if instance_id:
            # static membership: a restarted sink takes its partitions back at once
            extra["group.instance.id"] = f"{instance_id}-{system}"
        self.consumer = Consumer(
            settings.consumer_config(settings.topic(f"sfpms-sink-{system}"), **extra)
        )
        self.producer = Producer(settings.producer_config())
        self.applied = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Process batches until `stop` is set; commits what was fully processed."""
        self.consumer.subscribe(list(self.commands))
        try:
            while not stop.is_set():
                messages = await asyncio.to_thread(
                    self.consumer.consume, self.options.batch_size, self.options.linger_s
                )
                batch = [m for m in messages if m.error() is None]
                if batch:
                    await self.process(batch, stop)
        finally:
            self.consumer.close()
            self.producer.flush(15)

    async def process(self, batch: Sequence[Message], stop: asyncio.Event) -> None:
        commands: list[Mapping[str, Any]] = []
        sources: list[Message] = []
        for message in batch:
            try:
                commands.append(self.commands[str(message.topic())].decode(message.value() or b""))
                sources.append(message)
            except Exception as exc:
                self._dead_letter_raw(message, exc)
        applied = await self._apply_with_retries(commands, stop) if commands else []
        if stop.is_set() and commands and not applied:
            return  # stopping mid-retry: nothing committed, the batch is redelivered
        for message, outcome in zip(sources, applied, strict=True):
            self._publish(message, outcome)
        if self.producer.flush(30) > 0:
            raise RuntimeError("results were not acknowledged by the broker; not committing")
        self._commit(batch)

    async def _apply_with_retries(
        self, commands: Sequence[Mapping[str, Any]], stop: asyncio.Event
    ) -> list[Applied]:
        delay = self.options.backoff_initial_s
        while True:
            started = time.monotonic()
            try:
                applied = await self.target.apply(commands)
                retriable = [a.error for a in applied if isinstance(a.error, RetriableError)]
                if not retriable:
                    metrics.SINK_BATCH_SECONDS.labels(self.system).observe(
                        time.monotonic() - started
                    )
                    return applied
                error: RetriableError = retriable[0]
            except RetriableError as exc:
                error = exc
            metrics.SINK_RETRIES.labels(self.system).inc()
            wait = error.retry_after if error.retry_after is not None else delay
            wait = min(wait, self.options.backoff_max_s) * (1 + random.random() * 0.1)
            log.warning("%s sink: %s; retrying the batch in %.1fs", self.system, error, wait)
            try:
                await asyncio.wait_for(stop.wait(), timeout=wait)
                return []
            except TimeoutError:
                pass
            delay = min(delay * 2, self.options.backoff_max_s)

    def _publish(self, message: Message, applied: Applied) -> None:
        command = applied.command
        result = write_result(applied)
        self.producer.produce(
            self.settings.topic(t.ACKS),
            key=result_key(result).encode(),
            value=self.results.encode(result),
        )
        conflict = applied.conflict
        outcome = "ok" if applied.ok else "conflict" if conflict else "failed"
        metrics.SINK_WRITES.labels(self.system, command["entity"], command["action"], outcome).inc()
        self.applied += 1
        cause = command.get("cause") or {}
        committed = cause.get("commit_ts") or cause.get("modstamp")
        if applied.ok and isinstance(committed, datetime):
            latency = (datetime.now(UTC) - committed).total_seconds()
            metrics.E2E_LATENCY.labels(command["flow"]).observe(max(latency, 0.0))
        if conflict:
            log.info("%s sink: %s", self.system, applied.error)
        elif not applied.ok:
            log.warning("%s sink: dead-lettering %s", self.system, applied.error)
            metrics.DEAD_LETTERS.labels("sink", command["flow"]).inc()
            record = dead_letter(
                applied,
                topic=self._unprefixed(message),
                partition=message.partition(),
                offset=message.offset(),
                key=message.key(),
                value=message.value(),
            )
            self.producer.produce(
                self.settings.topic(t.DEADLETTER),
                key=str(record["record"] or "").encode(),
                value=self.dead_letters.encode(record),
            )

    def _dead_letter_raw(self, message: Message, exc: Exception) -> None:
        log.warning("%s sink: undecodable command at %s: %s", self.system, message.topic(), exc)
        metrics.DEAD_LETTERS.labels("sink", "").inc()
        record = {
            "stage": "sink",
            "topic": self._unprefixed(message),
            "partition": message.partition(),
            "offset": message.offset(),
            "key": message.key(),
            "value": message.value(),
            "error_class": type(exc).__name__,
            "reason": f"undecodable write command: {exc}",
            "flow": None,
            "record": (message.key() or b"").decode(errors="replace"),
            "field": None,
            "attempts": 1,
            "failed_at": datetime.now(UTC),
        }
        self.producer.produce(
            self.settings.topic(t.DEADLETTER),
            key=message.key(),
            value=self.dead_letters.encode(record),
        )

    def _unprefixed(self, message: Message) -> str:
        """Dead letters name catalogue topics without the deployment's prefix."""
        return str(message.topic())[len(self.settings.topic_prefix) :]

    def _commit(self, batch: Sequence[Message]) -> None:
        last: dict[tuple[str, int], int] = {}
        for message in batch:
            key = (str(message.topic()), int(message.partition() or 0))
            last[key] = max(last.get(key, -1), int(message.offset() or 0))
        offsets = [
            TopicPartition(topic, part, offset + 1) for (topic, part), offset in last.items()
        ]
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        except Exception as exc:  # e.g. a rebalance took the partitions: they are redelivered
            log.warning(
                "%s sink: commit failed (%s); the batch will be redelivered", self.system, exc
            )
