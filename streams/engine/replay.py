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

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from foundation.kafka import topics as t
from foundation.settings import Settings
from streams.core.decide import Rules
from streams.core.hub import Hub
from streams.core.model import WriteIntent
from streams.engine.codecs import EngineCodecs
from streams.engine.processor import (
    FLOW_HEADER,
    MemoryHubs,
    MemoryRoutes,
    Origin,
    Outcome,
    Processor,
    decode_hub,
    decode_route,
)
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
    consumer = Consumer(settings.consumer_config(settings.topic("sfpms-replay-loader")))
    name = settings.topic(topic)
    try:
        metadata = consumer.list_topics(name, timeout=15).topics.get(name)
        if metadata is None or metadata.error is not None:
            return {}
        partitions = [TopicPartition(name, p, OFFSET_BEGINNING) for p in metadata.partitions]
        ends = {p.partition: consumer.get_watermark_offsets(p, timeout=15)[1] for p in partitions}
        pending = {p for p, end in ends.items() if end > 0}
        consumer.assign([p for p in partitions if p.partition in pending])
        latest: dict[bytes, bytes] = {}
        idle = 0
        while pending and idle < 100:
            msg = consumer.poll(0.1)
            if msg is None:
                idle += 1
                continue
            idle = 0
            if msg.error():
                raise RuntimeError(f"reading {name}: {msg.error()}")
            key, value = msg.key(), msg.value()
            if key is not None:
                if value is None:
                    latest.pop(key, None)
                else:
                    latest[key] = value
            if (msg.offset() or 0) >= ends[msg.partition() or 0] - 1:
                pending.discard(msg.partition() or 0)
        if pending:
            raise RuntimeError(f"could not read {name} to its end")
        return latest
    finally:
        consumer.close()


def load_link_table(settings: Settings) -> tuple[MemoryHubs, MemoryRoutes]:
    """The engine's link and routing tables as the changelogs hold them now."""
    hubs, route_store = MemoryHubs(), MemoryRoutes()
    for key, value in read_compacted(settings, f"{t.ENGINE_APP}-hubs-changelog").items():
        hubs.put(key.decode(), decode_hub(value))
    for key, value in read_compacted(settings, f"{t.ENGINE_APP}-routes-changelog").items():
        route_store.put(key.decode(), decode_route(value))
    return hubs, route_store


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
        self.processor = Processor(self.codecs, Rules(rules.flows, rules.precedence, replay=True))
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
        hubs, route_store = load_link_table(self.settings)
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
                    self._replay_one(msg, hubs, route_store, producer, diff_out)
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
        hubs: MemoryHubs,
        route_store: MemoryRoutes,
        producer: Producer | None,
        diff_out: IO[str] | None,
    ) -> None:
        prefix = self.settings.topic_prefix
        origin = Origin(str(msg.topic())[len(prefix) :], msg.partition(), msg.offset())
        self.summary.changes += 1
        pending: list[tuple[Origin, bytes | None, bytes | None, dict[str, bytes]]] = [
            (origin, msg.key(), msg.value(), {})
        ]
        while pending:
            origin_, key, value, headers = pending.pop(0)
            before = _known_before(hubs, origin_, key)
            out = self.processor.handle(origin_, key, value, headers, hubs, route_store)
            for link_key, flow, raw in out.forward:
                headers_ = {FLOW_HEADER: flow.encode()}
                pending.append((Origin(t.INBOX), link_key.encode(), raw, headers_))
            out.forward.clear()
            self._write(out, before, producer, diff_out)

    def _write(
        self,
        out: Outcome,
        before: Mapping[str, Any],
        producer: Producer | None,
        diff_out: IO[str] | None,
    ) -> None:
        kept: list[WriteIntent] = []
        for intent in out.writes:
            if intent.action in ("create", "upsert"):
                self.summary.skipped_creates += 1
                continue
            if intent.system == "salesforce":
                fields = {k: v for k, v in intent.fields.items() if k in self.sf_fields}
                if not fields and intent.action == "update":
                    continue
                intent = _with_fields(intent, fields)
            elif intent.flow != self.flow.name:
                continue
            kept.append(intent)
            record = intent.target_id or intent.link_key
            self.summary.records.add(record)
            self.summary.fields += len(intent.fields)
            self.summary.by_action[f"{intent.system} {intent.action}"] += 1
            if diff_out is not None:
                old = before.get(_side(intent), {})
                line = {
                    "flow": intent.flow,
                    "system": intent.system,
                    "entity": intent.entity,
                    "action": intent.action,
                    "record": record,
                    "link_key": intent.link_key,
                    "fields": {k: {"old": old.get(k), "new": v} for k, v in intent.fields.items()},
                }
                diff_out.write(json.dumps(line, default=str) + "\n")
        self.summary.problems += len(out.problems) + (1 if out.undecodable else 0)
        out.writes[:] = kept
        out.links.clear()
        out.rejected.clear()
        if producer is None:
            return
        for emit in self.processor.encode(out):
            producer.produce(
                self.settings.topic(emit.topic),
                key=emit.key,
                value=emit.value,
                headers=list(emit.headers) or None,
            )


def _side(intent: WriteIntent) -> str:
    return "salesforce" if intent.system == "salesforce" else f"pms:{intent.flow}"


def _with_fields(intent: WriteIntent, fields: Mapping[str, Any]) -> WriteIntent:
    return replace(intent, fields=dict(fields))


def _known_before(hubs: MemoryHubs, origin: Origin, key: bytes | None) -> dict[str, dict[str, Any]]:
    """Copies of what the hub a record touches knows, before the record is processed."""
    hub: Hub | None = None
    if key is not None and (origin.topic == t.INBOX or origin.topic.startswith("salesforce.")):
        hub = hubs.get(key.decode())
    if hub is None:
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
