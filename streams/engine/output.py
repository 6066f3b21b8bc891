"""The engine's output producer: librdkafka (confluent-kafka), not Faust's producer.

Write commands, link events, forwards and dead letters go out through one idempotent
confluent-kafka producer with murmur2 partitioning (so keys land where Faust's tables expect
them). Measured in docs/benchmarks.md: Faust's own producer costs a Python FutureMessage and
a pure-Python murmur2 per record, which dominated the engine hop. The agents flush this
producer before they store a batch's state, so outputs are never claimed by state that a
crash could keep while losing them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from foundation.settings import Settings
from streams.engine.topology import Outgoing

log = logging.getLogger(__name__)


class OutputError(RuntimeError):
    """The broker did not acknowledge some outputs; the batch must not be committed."""


class OutputProducer:
    """Produces `Outgoing` records; `flush` waits until every one is acknowledged or raises."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.producer = Producer(settings.producer_config())
        self.errors: list[str] = []
        self.produced = 0

    def _on_delivery(self, err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            self.errors.append(str(err))

    def send(self, records: Iterable[Outgoing]) -> None:
        for record in records:
            while True:
                try:
                    self.producer.produce(
                        self.settings.topic(record.topic),
                        key=record.key,
                        value=record.value,
                        headers=list(record.headers) or None,
                        on_delivery=self._on_delivery,
                    )
                    break
                except BufferError:
                    self.producer.poll(0.01)
            self.produced += 1
        self.producer.poll(0)

    async def flush(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109 - a deadline loop
        """Wait (without blocking the event loop) until all outputs are acknowledged."""
        deadline = time.monotonic() + timeout
        while self.producer.flush(0) > 0:
            if time.monotonic() > deadline:
                raise OutputError(f"outputs not acknowledged within {timeout:.0f}s")
            await asyncio.sleep(0.002)
        if self.errors:
            first, self.errors = self.errors[0], []
            raise OutputError(f"the broker refused outputs: {first}")

    def renew(self) -> None:
        """Replace the producer (a fatal error, e.g. librdkafka's idempotent producer after a
        broker lost acknowledged writes: OUT_OF_ORDER_SEQUENCE_NUMBER, ends a producer for
        good); what the old one still held is dropped, the caller sends it again."""
        old, self.producer = self.producer, Producer(self.settings.producer_config())
        self.errors = []
        try:
            old.purge()
            old.flush(0)
        except (KafkaException, RuntimeError):
            log.debug("discarding the old output producer failed", exc_info=True)

    def close(self) -> None:
        self.producer.flush(30)
