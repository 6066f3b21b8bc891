"""Replay a flow's change history through the current mapping (`sfpms replay`).

How it works (docs/operations.md has the operator's view):
1. The link table is loaded from the engine's changelog topics into memory, so replay sees
   what the live engine knows each side holds.
2. The flow's change topics are read over the chosen range, under the replay's own consumer
   group, and each change goes through the same Processor and core as live, with
   `Rules(replay=True)`: a change no newer than the link state only reconciles its record.
3. Reconciling under the current mapping writes exactly the fields whose mapped value
   differs from what the target holds; replaying unchanged history writes nothing.
4. Only updates and deletes of linked records are written; creations and link changes are
   left to the live engine (a replay must never make records the live engine does not know).
   `--dry-run` writes nothing and reports every field, old -> new.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import IO, Any

from confluent_kafka import Consumer, Producer, TopicPartition

from foundation.kafka import topics as t
from foundation.kafka.tail import latest_by_key, read_to_end
from foundation.settings import Settings
from foundation.wire import WriteOp
from streams.core.events import Effect, Forward, IssueWrite, Reject, Skip
from streams.core.hub import Hub
from streams.core.rules import Rules
from streams.engine.codecs import EngineCodecs
from streams.engine.processor import (
    Handled,
    MemoryTables,
    Processor,
    Stores,
    decode_hub,
    decode_route,
)
from streams.engine.topology import FLOW_HEADER, Consumed
from streams.mapping.table import Flow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplayRange:
    """Where to start and stop; exactly one of the starts is used."""

    from_beginning: bool = False
    from_offset: int | None = None
    from_time: datetime | None = None
    to_time: datetime | None = None
    resume: bool = False


@dataclass
class ReplaySummary:
    """What a replay did (or would do)."""

    changes: int = 0
    records: set[str] = field(default_factory=set)
    fields: int = 0
    by_action: Counter[str] = field(default_factory=Counter)
    skipped_creates: int = 0
    problems: int = 0
    interrupted: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "changes": self.changes,
            "records": len(self.records),
            "fields": self.fields,
            "by_action": dict(self.by_action),
            "skipped_creates": self.skipped_creates,
            "problems": self.problems,
            "interrupted": self.interrupted,
        }


def group_id(settings: Settings, flow: str) -> str:
    return settings.topic(f"sfpms-replay-{flow}")


def input_topics(flow: Flow) -> list[str]:
    """The change topics a flow is replayed from (unprefixed)."""
    return [
        t.changes_topic("salesforce", flow.sf_object.lower()),
        t.changes_topic("custompms", flow.pms_resource),
    ]


def read_compacted(settings: Settings, topic: str) -> dict[bytes, bytes]:
    """The latest value per key of a compacted topic, read to its current end."""
    config = settings.consumer_config(settings.topic("sfpms-replay-loader"))
    return latest_by_key(read_to_end(config, settings.topic(topic)))


def load_link_table(settings: Settings) -> MemoryTables:
    """The engine's link and routing tables as the changelogs hold them now."""
    tables = MemoryTables()
    for key, value in read_compacted(settings, f"{t.ENGINE_APP}-hubs-changelog").items():
        tables.hubs[key.decode()] = decode_hub(value)
    for key, value in read_compacted(settings, f"{t.ENGINE_APP}-routes-changelog").items():
        tables.routes[key.decode()] = decode_route(value)
    return tables


class Replay:
    """One replay of one flow."""

    def __init__(
        self,
        settings: Settings,
        flow: Flow,
        rules: Rules,
        codecs: EngineCodecs | None = None,
    ) -> None:
        self.settings = settings
        self.flow = flow
        self.codecs = codecs or EngineCodecs(settings)
        self.processor = Processor(self.codecs, rules.replayed())
        self.sf_fields = {r.sf_field for r in flow.rows if r.writes_sf and r.sf_field}
        self.summary = ReplaySummary()

    def run(
        self,
        span: ReplayRange,
        *,
        dry_run: bool,
        diff_out: IO[str] | None = None,
        stop: threading.Event | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> ReplaySummary:
        """Replay the range; `progress(done, total)` is called as it goes."""
        stop = stop or threading.Event()
        stores = load_link_table(self.settings).stores
        consumer = Consumer(self.settings.consumer_config(group_id(self.settings, self.flow.name)))
        producer = None if dry_run else Producer(self.settings.producer_config())
        try:
            starts, ends = self._plan(consumer, span)
            total = sum(max(ends[tp] - starts[tp], 0) for tp in starts)
            remaining = {tp for tp in starts if ends[tp] > starts[tp]}
            consumer.assign([TopicPartition(tp[0], tp[1], starts[tp]) for tp in remaining])
            done = 0
            to_ms = int(span.to_time.timestamp() * 1000) if span.to_time else None
            while remaining and not stop.is_set():
                messages = consumer.consume(500, 0.5)
                for msg in messages:
                    if msg.error():
                        continue
                    tp = (str(msg.topic()), int(msg.partition() or 0))
                    offset = int(msg.offset() or 0)
                    if tp not in remaining or offset >= ends[tp]:
                        remaining.discard(tp)
                        continue
                    if offset >= ends[tp] - 1:
                        remaining.discard(tp)
                    done += 1
                    if to_ms is not None and msg.timestamp()[1] > to_ms:
                        remaining.discard(tp)
                        continue
                    self._replay_one(msg, stores, producer, diff_out)
                if producer is not None and messages:
                    producer.flush(30)
                    consumer.commit(asynchronous=False)
                if progress is not None:
                    progress(done, total)
            self.summary.interrupted = stop.is_set() and bool(remaining)
            return self.summary
        finally:
            consumer.close()
            if producer is not None:
                producer.flush(30)

    def _plan(
        self, consumer: Consumer, span: ReplayRange
    ) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
        starts: dict[tuple[str, int], int] = {}
        ends: dict[tuple[str, int], int] = {}
        partitions: list[TopicPartition] = []
        for topic in input_topics(self.flow):
            name = self.settings.topic(topic)
            metadata = consumer.list_topics(name, timeout=15).topics.get(name)
            if metadata is None:
                continue
            partitions += [TopicPartition(name, p) for p in metadata.partitions]
        committed = (
            {(p.topic, p.partition): p.offset for p in consumer.committed(partitions, timeout=15)}
            if span.resume
            else {}
        )
        by_time: dict[tuple[str, int], int] = {}
        if span.from_time is not None:
            wanted = int(span.from_time.timestamp() * 1000)
            found = consumer.offsets_for_times(
                [TopicPartition(p.topic, p.partition, wanted) for p in partitions], timeout=15
            )
            by_time = {(p.topic, p.partition): p.offset for p in found}
        for p in partitions:
            low, high = consumer.get_watermark_offsets(p, timeout=15, cached=False)
            tp = (p.topic, p.partition)
            ends[tp] = high
            if span.resume and committed.get(tp, -1) >= 0:
                start = committed[tp]
            elif span.from_time is not None:
                start = by_time.get(tp, high)
                start = high if start < 0 else start
            elif span.from_offset is not None:
                start = span.from_offset
            else:
                start = low
            starts[tp] = max(low, min(start, high))
        return starts, ends

    def _replay_one(
        self,
        msg: Any,
        stores: Stores,
        producer: Producer | None,
        diff_out: IO[str] | None,
    ) -> None:
        prefix = self.settings.topic_prefix
        first = Consumed(
            str(msg.topic())[len(prefix) :],
            msg.partition(),
            msg.offset(),
            msg.key(),
            msg.value(),
            {},
        )
        self.summary.changes += 1
        pending = [first]
        while pending:
            record = pending.pop(0)
            before = _known_before(stores, record)
            handled = self.processor.handle(record, stores)
            kept: list[Effect] = []
            for effect in handled.effects:
                if isinstance(effect, Forward):
                    # Routing is replayed in process: the forwarded change goes straight on
                    # to its hub instead of through the inbox topic.
                    headers = {FLOW_HEADER: effect.flow.encode()}
                    key = effect.link_key.encode()
                    pending.append(Consumed(t.INBOX, None, None, key, effect.raw, headers))
                elif isinstance(effect, IssueWrite):
                    write = self._kept_write(effect, before, diff_out)
                    if write is not None:
                        kept.append(write)
                elif isinstance(effect, Reject):
                    self.summary.problems += 1
                    kept.append(effect)
                elif isinstance(effect, Skip):
                    kept.append(effect)
                # links claimed, released or refused are the live engine's business
            handled.effects = kept
            if producer is not None:
                self._produce(handled, producer)

    def _kept_write(
        self,
        effect: IssueWrite,
        before: Mapping[str, Any],
        diff_out: IO[str] | None,
    ) -> IssueWrite | None:
        """The part of a command a replay issues (None when nothing is left): updates and
        deletes of this flow's records; creations are the live engine's."""
        command = effect.command
        kept: list[WriteOp] = []
        for op in command.ops:
            if op.action in ("create", "upsert"):
                self.summary.skipped_creates += 1
                continue
            if command.system == "salesforce":
                fields = {k: v for k, v in op.fields.items() if k in self.sf_fields}
                if not fields and op.action == "update":
                    continue
                op = replace(op, fields=fields)
            elif op.flow != self.flow.name:
                continue
            kept.append(op)
            self._count(command.system, command.link_key, op, before, diff_out)
        if not kept:
            return None
        return IssueWrite(replace(command, ops=tuple(kept)))

    def _count(
        self,
        system: str,
        link_key: str,
        op: WriteOp,
        before: Mapping[str, Any],
        diff_out: IO[str] | None,
    ) -> None:
        record = op.target_id or link_key
        self.summary.records.add(record)
        self.summary.fields += len(op.fields)
        self.summary.by_action[f"{system} {op.action}"] += 1
        if diff_out is not None:
            old = before.get(_side(system, op.flow), {})
            line = {
                "flow": op.flow,
                "system": system,
                "entity": op.entity,
                "action": op.action,
                "record": record,
                "link_key": link_key,
                "fields": {k: {"old": old.get(k), "new": v} for k, v in op.fields.items()},
            }
            diff_out.write(json.dumps(line, default=str) + "\n")

    def _produce(self, handled: Handled, producer: Producer) -> None:
        for out in self.processor.encode(handled):
            producer.produce(
                self.settings.topic(out.topic),
                key=out.key,
                value=out.value,
                headers=list(out.headers) or None,
            )


def _side(system: str, flow: str) -> str:
    return "salesforce" if system == "salesforce" else f"pms:{flow}"


def _known_before(stores: Stores, record: Consumed) -> dict[str, dict[str, Any]]:
    """Copies of what the hub a record touches knows, before the record is processed."""
    hub = None
    key = record.key
    if key is not None and (record.topic == t.INBOX or record.topic.startswith("salesforce.")):
        hub = stores.hubs.get(key.decode())
    if not isinstance(hub, Hub):
        return {}
    known: dict[str, dict[str, Any]] = {"salesforce": dict(hub.sf_known)}
    for name, link in hub.links.items():
        known[f"pms:{name}"] = dict(link.known)
    return known


def describe_active_members(settings: Settings, flow: str) -> int:
    """Members currently in the replay group (another replay of this flow running)."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(settings.kafka_client_config())
    futures = admin.describe_consumer_groups([group_id(settings, flow)])
    try:
        described = next(iter(futures.values())).result(timeout=15)
    except Exception:
        return 0
    return len(getattr(described, "members", []) or [])
