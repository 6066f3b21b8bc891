"""The sink worker loop: consume write commands, apply them in batches, publish results.

Per round: decode, apply through the target adapter, publish a WriteResult per finished
command and a dead letter per refused one, wait for the broker to acknowledge those, and
only then commit the consumed offsets. A crash anywhere re-delivers what was not committed,
and the adapters make a second apply harmless (idempotency keys, upsert by external id,
deletes of the already deleted, conditional updates).

A command that fails with a transient error is held (connectors/sinks/holds.py): its
partition is paused and retried on the sink's retry policy while the consumer goes on
polling and working on every other partition; after bounded attempts and age it becomes a
dead letter with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from connectors.custompms.errors import CustompmsAuthError
from connectors.sinks.holds import Partition, Pending, commit_offsets, settle
from connectors.sinks.model import (
    Applied,
    CommandApplied,
    dead_letter,
    flatten,
    regroup,
    result_for,
    undecodable,
)
from foundation import killpoints, metrics
from foundation.deadletters import DeadLetter
from foundation.errors import RetriableError, SyncError
from foundation.kafka import topics as t
from foundation.kafka.serde import TopicCodec, registry_client
from foundation.retry import RetryPolicy
from foundation.settings import Settings, SinkSystemSettings
from foundation.wire import WriteCommand

log = logging.getLogger(__name__)


class Target(Protocol):
    system: str

    async def apply(self, commands: Sequence[Mapping[str, Any]]) -> list[Applied]: ...


def sink_policy(options: SinkSystemSettings) -> RetryPolicy:
    """The sinks' configuration of the product's one retry policy (foundation/retry.py)."""
    return RetryPolicy(
        max_attempts=options.max_attempts,
        max_age_s=options.max_age_s,
        base_delay_s=options.backoff_initial_s,
        max_delay_s=options.backoff_max_s,
        jitter="equal",
        max_retry_after_s=None,
    )


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
        self.policy = sink_policy(self.options)
        client = registry_client(settings)
        self.topics = [t.writes_topic(system)]
        self.commands = {
            settings.topic(name): TopicCodec(settings, client, name) for name in self.topics
        }
        self.results = TopicCodec(settings, client, t.RESULTS)
        self.dead_letters = TopicCodec(settings, client, t.DEADLETTER)
        self._fatal_error: KafkaError | None = None
        extra: dict[str, Any] = {
            "max.poll.interval.ms": int(self.options.max_poll_interval_s * 1000),
            "error_cb": self._kafka_error,
        }
        if instance_id:
            # static membership: a restarted sink takes its partitions back at once
            extra["group.instance.id"] = f"{instance_id}-{system}"
        self._consumer_config = settings.consumer_config(
            settings.topic(f"sfpms-sink-{system}"), **extra
        )
        self.consumer = Consumer(self._consumer_config)
        self.consumers_replaced = 0
        self.producer = Producer(settings.producer_config())
        self.applied = 0
        #: Paused partitions and their commands waiting for another attempt, in order.
        self.held: dict[Partition, list[Pending]] = {}
        self.due: dict[Partition, float] = {}
        self._paused: set[Partition] = set()
        self._auth_failures = 0
        self._said: dict[str, float] = {}

    # -- the loop ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Process commands until `stop` is set; commits what was fully processed."""
        self.consumer.subscribe(list(self.commands), on_revoke=self._revoked)
        try:
            while not stop.is_set():
                timeout = self.options.linger_s
                if self.due:
                    timeout = max(0.0, min(timeout, min(self.due.values()) - time.monotonic()))
                messages = await asyncio.to_thread(
                    self.consumer.consume, self.options.batch_size, max(timeout, 0.01)
                )
                fatal = next((m.error() for m in messages if _fatal(m)), self._fatal_error)
                if fatal is not None:
                    self._replace_consumer(fatal)
                    continue
                batch = [m for m in messages if m.error() is None]
                if batch:
                    await self.process(batch, stop)
                await self.retry_due(stop)
        finally:
            self.consumer.close()
            self.producer.flush(15)

    def _replace_consumer(self, error: KafkaError) -> None:
        """A fatal consumer error (e.g. a static member fenced after its session expired
        while the broker was unreachable) leaves the consumer unusable: every later poll
        returns the same error and the sink would stall. Close it and join again with a new
        one; what this process held is consumed again from the committed offsets."""
        log.warning(
            "%s sink: the Kafka consumer failed for good (%s); joining the group again with "
            "a new consumer (uncommitted commands are consumed again)",
            self.system,
            error.str(),
        )
        # A fenced consumer may refuse to leave cleanly; the new one joins anyway.
        with contextlib.suppress(KafkaException):
            self.consumer.close()
        self.held.clear()
        self.due.clear()
        self._paused.clear()
        metrics.SINK_HELD.labels(self.system).set(0)
        self._fatal_error = None
        self.consumer = Consumer(self._consumer_config)
        self.consumer.subscribe(list(self.commands), on_revoke=self._revoked)
        self.consumers_replaced += 1

    def _kafka_error(self, error: KafkaError) -> None:
        """librdkafka's error callback: a fatal consumer error is remembered for the loop
        (the producer shares no callback: its errors surface at produce and flush)."""
        if error.fatal():
            self._fatal_error = error
        else:
            log.debug("%s sink: Kafka client error: %s", self.system, error.str())

    def _revoked(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Partitions taken away in a rebalance: their held commands go with them (the new
        owner consumes them again from the committed offset)."""
        for tp in partitions:
            key = (str(tp.topic), int(tp.partition))
            self.held.pop(key, None)
            self.due.pop(key, None)
        metrics.SINK_HELD.labels(self.system).set(sum(len(v) for v in self.held.values()))

    async def process(self, batch: Sequence[Message], stop: asyncio.Event) -> None:
        """Decode and apply freshly consumed commands (those of held partitions queue up)."""
        fresh: list[Pending] = []
        letters: list[tuple[Pending | None, DeadLetter]] = []
        for message in batch:
            topic, partition = str(message.topic()), int(message.partition() or 0)
            try:
                decoded = self.commands[topic].decode(message.value() or b"")
                command = WriteCommand.from_avro(decoded)
            except Exception as exc:
                letters.append((None, self._undecodable(message, exc)))
                fresh.append(_placeholder(message))
                continue
            item = Pending(
                (topic, partition),
                int(message.offset() or 0),
                message.key(),
                message.value(),
                command,
            )
            if item.partition in self.held:
                self.held[item.partition].append(item)  # after the held ones, in order
            else:
                fresh.append(item)
        decodable = [p for p in fresh if p.command is not None]
        done = [p for p in fresh if p.command is None]
        await self._round(decodable, done, letters, stop)

    async def retry_due(self, stop: asyncio.Event) -> None:
        """Apply again the held commands whose next attempt is due."""
        now = time.monotonic()
        due = [p for p, at in self.due.items() if at <= now]
        if not due or stop.is_set():
            return
        pending: list[Pending] = []
        for partition in due:
            pending += self.held.pop(partition)
            del self.due[partition]
        metrics.SINK_RETRIES.labels(self.system).inc()
        await self._round(pending, [], [], stop)

    # -- one round ----------------------------------------------------------------------------

    async def _round(
        self,
        pending: list[Pending],
        done_already: list[Pending],
        letters: list[tuple[Pending | None, DeadLetter]],
        stop: asyncio.Event,
    ) -> None:
        applied: list[CommandApplied] = []
        if pending:
            applied = await self._apply(pending)
            killpoints.reached("sink.after_apply")
        settled = settle(pending, applied, self.policy, uncounted=self._uncounted)
        outgoing: list[tuple[str, bytes, bytes]] = []
        for item, outcome in settled.done:
            outgoing.append(self._result(outcome))
            letters += [(item, letter) for letter in self._finished(item, outcome)]
        for _item, letter in letters:
            value = self.dead_letters.encode(letter.to_record())
            outgoing.append((self.settings.topic(t.DEADLETTER), letter.message_key, value))
        await self._deliver(outgoing)
        killpoints.reached("sink.after_results")
        self._hold(settled.held, settled.wait)
        done = [item for item, _ in settled.done] + done_already
        self._commit(commit_offsets(done, self.held))

    async def _apply(self, pending: Sequence[Pending]) -> list[CommandApplied]:
        """Apply the commands' ops, flattened, through the target; a failure of the whole
        call is every op's failure."""
        commands = [p.command for p in pending if p.command is not None]
        ops = flatten(commands)
        started = time.monotonic()
        try:
            applied = await self.target.apply(ops)
        except SyncError as exc:  # the targets report per op; this is a last resort
            applied = [Applied(o, ok=False, target_id=o.get("target_id"), error=exc) for o in ops]
        except Exception as exc:  # a bug must not crash-loop the sink: bounded, then dead letter
            log.exception("%s sink: the target failed unexpectedly", self.system)
            wrapped = RetriableError(f"the {self.system} sink failed: {type(exc).__name__}: {exc}")
            applied = [Applied(o, ok=False, error=wrapped) for o in ops]
        else:
            metrics.SINK_BATCH_SECONDS.labels(self.system).observe(time.monotonic() - started)
        return regroup(commands, applied)

    def _uncounted(self, error: SyncError) -> float | None:
        """The wait for a failure that is not the command's fault, or None (it counts)."""
        if getattr(error, "error_code", None) == "REQUEST_LIMIT_EXCEEDED":
            said = getattr(error, "server_retry_after", None)  # what Salesforce said, if it did
            wait = float(said if said is not None else self.options.limit_wait_s)
            self._say(logging.WARNING, f"{error}; waiting {wait:.0f}s, not counting it")
            return wait
        if isinstance(error, CustompmsAuthError):
            self._auth_failures += 1
            wait = self.policy.delay(min(self._auth_failures, 64))
            self._say(logging.ERROR, f"credentials refused ({error}); retrying with backoff")
            return wait
        self._auth_failures = 0
        return None

    def _say(self, level: int, text: str, every_s: float = 60.0) -> None:
        """Log `text` at most once a minute (it holds for every command of a batch)."""
        now = time.monotonic()
        if now - self._said.get(text, -every_s) >= every_s:
            self._said[text] = now
            log.log(level, "%s sink: %s", self.system, text)

    def _hold(
        self, held: Mapping[Partition, list[Pending]], wait: Mapping[Partition, float]
    ) -> None:
        now = time.monotonic()
        for partition, items in held.items():
            queued = self.held.get(partition, [])  # consumed meanwhile: they come after
            self.held[partition] = [*items, *queued]
            self.due[partition] = now + wait.get(partition, self.options.backoff_initial_s)
            head = items[0]
            log.warning(
                "%s sink: %s at %s:%d (attempt %d); %d command(s) wait %.1fs",
                self.system,
                head.last_error,
                partition[0],
                head.offset,
                head.attempts,
                len(self.held[partition]),
                self.due[partition] - now,
            )
        paused = [TopicPartition(topic, part) for topic, part in held]
        resumed = [TopicPartition(topic, part) for (topic, part) in self._paused - set(self.held)]
        try:
            if paused:
                self.consumer.pause(paused)
            if resumed:
                self.consumer.resume(resumed)
        except Exception as exc:  # a rebalance took them: nothing held for them any more
            log.info("%s sink: pause/resume failed (%s)", self.system, exc)
        self._paused = set(self.held)
        metrics.SINK_HELD.labels(self.system).set(sum(len(v) for v in self.held.values()))

    # -- results and dead letters ------------------------------------------------------------

    async def _deliver(self, records: Sequence[tuple[str, bytes, bytes]]) -> None:
        """Produce `records` and wait for the broker's acknowledgement. A producer that hit a
        fatal error (librdkafka's idempotent producer after a broker lost acknowledged
        writes: OUT_OF_ORDER_SEQUENCE_NUMBER) is replaced and the records sent again
        (results are idempotent for the engine); nothing is committed until they are in."""
        for attempt in range(1, 6):
            refused: list[str] = []

            def delivered(err: Any, _msg: Any, refused: list[str] = refused) -> None:
                if err is not None:
                    refused.append(str(err))

            try:
                for topic, key, value in records:
                    self.producer.produce(topic, key=key, value=value, on_delivery=delivered)
                left = await asyncio.to_thread(self.producer.flush, 30)
                if left == 0 and not refused:
                    return
                problem = f"{left} unacknowledged, refused: {'; '.join(refused[:3]) or 'none'}"
            except (KafkaException, BufferError, SystemError) as exc:
                problem = f"the producer failed ({exc})"
            log.warning(
                "%s sink: results not delivered (%s); new producer, sending again (%d/5)",
                self.system,
                problem,
                attempt,
            )
            self._renew_producer()
            await asyncio.sleep(min(2.0**attempt, 10.0))
        raise RuntimeError(f"{self.system} sink: results not acknowledged; not committing")

    def _renew_producer(self) -> None:
        old, self.producer = self.producer, Producer(self.settings.producer_config())
        try:
            old.purge()
            old.flush(0)
        except (KafkaException, RuntimeError, SystemError):
            log.debug("discarding the old producer failed", exc_info=True)

    def _result(self, done: CommandApplied) -> tuple[str, bytes, bytes]:
        """The WriteResult record of a finished command, ready to produce."""
        now = int(datetime.now(UTC).timestamp() * 1000)
        result = result_for(done.command, done.ops, now)
        value = self.results.encode(result.to_avro())
        return self.settings.topic(t.RESULTS), result.hub_key.encode(), value

    def _finished(self, item: Pending, done: CommandApplied) -> list[DeadLetter]:
        """Count and log a finished command's ops; the dead letters of those that failed."""
        letters: list[DeadLetter] = []
        cause = done.command.cause
        committed = (cause.commit_ts or cause.modstamp) if cause is not None else None
        for applied in done.ops:
            op = applied.command
            outcome = applied.status
            metrics.SINK_WRITES.labels(self.system, op["entity"], op["action"], outcome).inc()
            self.applied += 1
            if applied.ok and committed is not None:
                latency = time.time() - committed / 1000
                metrics.E2E_LATENCY.labels(op["flow"]).observe(max(latency, 0.0))
            if outcome in ("conflict", "gone"):
                log.info("%s sink: %s", self.system, applied.error)
                continue
            if applied.ok:
                continue
            log.warning("%s sink: dead-lettering %s", self.system, applied.error)
            metrics.DEAD_LETTERS.labels("sink", op["flow"]).inc()
            letters.append(
                dead_letter(
                    applied,
                    topic=self._unprefixed(item.partition[0]),
                    partition=item.partition[1],
                    offset=item.offset,
                    key=item.key,
                    value=item.value,
                    attempts=max(item.attempts, 1),
                )
            )
        return letters

    def _undecodable(self, message: Message, exc: Exception) -> DeadLetter:
        log.warning("%s sink: undecodable command at %s: %s", self.system, message.topic(), exc)
        metrics.DEAD_LETTERS.labels("sink", "").inc()
        return undecodable(
            exc,
            topic=self._unprefixed(str(message.topic())),
            partition=message.partition(),
            offset=message.offset(),
            key=message.key(),
            value=message.value(),
        )

    def _unprefixed(self, topic: str) -> str:
        """Dead letters name catalogue topics without the deployment's prefix."""
        return topic[len(self.settings.topic_prefix) :]

    def _commit(self, offsets: Mapping[Partition, int]) -> None:
        if not offsets:
            return
        commits = [TopicPartition(topic, part, offset) for (topic, part), offset in offsets.items()]
        try:
            self.consumer.commit(offsets=commits, asynchronous=False)
        except Exception as exc:  # e.g. a rebalance took the partitions: they are redelivered
            log.warning(
                "%s sink: commit failed (%s); those commands will be redelivered", self.system, exc
            )


def _placeholder(message: Message) -> Pending:
    """An undecodable message: done at once (its dead letter says why), committed in order."""
    return Pending(
        (str(message.topic()), int(message.partition() or 0)),
        int(message.offset() or 0),
        message.key(),
        message.value(),
        None,
    )


def _fatal(message: Message) -> bool:
    """A consumed error that leaves the consumer unusable (librdkafka reports a fatal error
    to `consume` as _FATAL, whose `fatal()` is False)."""
    error = message.error()
    return error is not None and (bool(error.fatal()) or error.code() == KafkaError._FATAL)
