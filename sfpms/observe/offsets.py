"""Read committed offsets, end offsets and group membership from the broker.

One `OffsetReader.snapshot()` asks, in this order: the topic metadata, each group's
description (state, members and their assignments) and committed offsets
(OffsetFetch), then the earliest and latest offsets of every partition involved with
ListOffsets (never the client's cached watermarks). Committed offsets are read before end
offsets so that a lag is never negative because of the order of the reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaError, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from foundation.settings import Settings
from sfpms.observe.groups import Naming

log = logging.getLogger(__name__)

TP = tuple[str, int]
#: Group states in which members are (about to be) consuming.
ACTIVE_STATES = frozenset({"STABLE", "PREPARING_REBALANCING", "COMPLETING_REBALANCING"})


@dataclass(frozen=True, slots=True)
class Member:
    """The group member that owns a partition (kafka-lag-exporter's labels)."""

    member_host: str = ""
    consumer_id: str = ""
    client_id: str = ""


@dataclass(frozen=True, slots=True)
class GroupState:
    """What the broker says about one consumer group."""

    group: str
    state: str
    exists: bool
    simple: bool = False
    members: int = 0
    committed: Mapping[TP, int] = field(default_factory=dict)
    owners: Mapping[TP, Member] = field(default_factory=dict)
    error: str | None = None

    def alive(self, tp: TP) -> bool:
        """Whether a live member consumes `tp`.

        Some brokers (Tansu) describe a stable group without its members; then every
        partition of an active group counts as owned.
        """
        if tp in self.owners:
            return True
        return self.state in ACTIVE_STATES and not self.owners


@dataclass(frozen=True, slots=True)
class OffsetSnapshot:
    """Offsets of the watched groups at one moment (`taken_at`, epoch seconds)."""

    taken_at: float
    groups: Mapping[str, GroupState]
    #: group -> the existing topics it is reported on (expected ones plus committed ones)
    consumes: Mapping[str, tuple[str, ...]]
    partitions: Mapping[str, int]
    latest: Mapping[TP, int]
    earliest: Mapping[TP, int]
    errors: Mapping[TP, str] = field(default_factory=dict)

    def tps(self, topic: str) -> list[TP]:
        return [(topic, p) for p in range(self.partitions.get(topic, 0))]

    def size(self, topic: str) -> int | None:
        """Messages retained in `topic` (end minus earliest), None if it was not read."""
        tps = self.tps(topic)
        if not tps or any(tp not in self.latest or tp not in self.earliest for tp in tps):
            return None
        return sum(self.latest[tp] - self.earliest[tp] for tp in tps)


class OffsetReader:
    """Reads offsets with confluent-kafka's AdminClient (and a consumer to peek records)."""

    def __init__(self, settings: Settings, *, timeout: float = 10.0) -> None:
        self.settings = settings
        self.naming = Naming.of(settings)
        self.timeout = timeout
        self.admin = AdminClient(settings.kafka_client_config())
        self._peeker: Consumer | None = None

    def watched_groups(self, only: Sequence[str] = ()) -> list[str]:
        """`only` if given; else the product's expected groups plus every listed group
        whose name carries the product prefix (e.g. replay groups)."""
        if only:
            return list(only)
        names = set(self.naming.expected())
        listed = self.admin.list_consumer_groups(request_timeout=self.timeout)
        result = listed.result(timeout=self.timeout)
        names |= {g.group_id for g in result.valid if self.naming.is_product_group(g.group_id)}
        return sorted(names)

    def snapshot(self, groups: Sequence[str], extra_topics: Iterable[str] = ()) -> OffsetSnapshot:
        """Committed and end offsets of `groups` (and of `extra_topics`, e.g. the DLQ)."""
        metadata = self.admin.list_topics(timeout=self.timeout)
        partitions = {name: len(meta.partitions) for name, meta in metadata.topics.items()}
        expected = self.naming.expected()
        states = {group: self._group_state(group) for group in groups}
        consumes: dict[str, tuple[str, ...]] = {}
        for group, state in states.items():
            committed_topics = {topic for topic, _ in state.committed}
            wanted = [*expected.get(group, ()), *sorted(committed_topics)]
            consumes[group] = tuple(dict.fromkeys(tp for tp in wanted if tp in partitions))
        topics = {topic for names in consumes.values() for topic in names}
        topics |= {topic for topic in extra_topics if topic in partitions}
        tps = [(topic, p) for topic in sorted(topics) for p in range(partitions[topic])]
        errors: dict[TP, str] = {}
        latest = self._list_offsets(tps, OffsetSpec.latest(), errors)
        taken_at = time.time()
        earliest = self._list_offsets(tps, OffsetSpec.earliest(), errors)
        return OffsetSnapshot(
            taken_at=taken_at,
            groups=states,
            consumes=consumes,
            partitions={topic: partitions[topic] for topic in topics},
            latest=latest,
            earliest=earliest,
            errors=errors,
        )

    def _group_state(self, group: str) -> GroupState:
        try:
            description = self.admin.describe_consumer_groups(
                [group], request_timeout=self.timeout
            )[group].result(timeout=self.timeout)
            state = description.state.name
            simple = bool(getattr(description, "is_simple_consumer_group", False))
            owners = _owners(description.members)
            members = len(description.members)
        except Exception as exc:  # the broker may refuse to describe an unknown group
            log.debug("could not describe group %s: %s", group, exc)
            state, simple, owners, members = "UNKNOWN", False, {}, 0
        try:
            request = [ConsumerGroupTopicPartitions(group)]
            future = self.admin.list_consumer_group_offsets(request, request_timeout=self.timeout)[
                group
            ]
            committed = {
                (tp.topic, tp.partition): tp.offset
                for tp in future.result(timeout=self.timeout).topic_partitions
                if tp.error is None and tp.offset >= 0
            }
        except Exception as exc:
            return GroupState(group, state, exists=False, error=f"offsets unreadable: {exc}")
        exists = bool(committed) or members > 0 or state not in {"DEAD", "UNKNOWN", "EMPTY"}
        return GroupState(group, state, exists, simple, members, committed, owners)

    def _list_offsets(self, tps: list[TP], spec: Any, errors: dict[TP, str]) -> dict[TP, int]:
        if not tps:
            return {}
        request = {TopicPartition(topic, p): spec for topic, p in tps}
        futures = self.admin.list_offsets(request, request_timeout=self.timeout)
        offsets: dict[TP, int] = {}
        for tp, future in futures.items():
            key = (tp.topic, tp.partition)
            try:
                offsets[key] = int(future.result(timeout=self.timeout).offset)
            except Exception as exc:
                errors[key] = f"ListOffsets failed: {exc}"
        return offsets

    def record_times(self, positions: Mapping[TP, int], timeout: float = 5.0) -> dict[TP, float]:
        """CreateTime (epoch s) of the record at each offset, for partitions that have one.

        Reads one message per partition with `assign()` (no group join, no commit).
        """
        if not positions:
            return {}
        consumer = self._peeker
        if consumer is None:
            conf = self.settings.consumer_config(
                self.naming.full("sfpms-observe-peek"), **{"enable.partition.eof": True}
            )
            consumer = self._peeker = Consumer(conf)
        consumer.assign(
            [TopicPartition(topic, p, offset) for (topic, p), offset in positions.items()]
        )
        found: dict[TP, float] = {}
        pending = set(positions)
        deadline = time.monotonic() + timeout
        try:
            while pending and time.monotonic() < deadline:
                message = consumer.poll(0.2)
                if message is None:
                    continue
                key = (str(message.topic()), int(message.partition() or 0))
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        pending.discard(key)
                    continue
                if key not in pending or int(message.offset() or 0) < positions[key]:
                    continue
                kind, millis = message.timestamp()
                if kind != 0 and millis > 0:  # 0 = TIMESTAMP_NOT_AVAILABLE
                    found[key] = millis / 1000.0
                pending.discard(key)
        finally:
            consumer.unassign()
        return found

    def close(self) -> None:
        if self._peeker is not None:
            self._peeker.close()
            self._peeker = None


def _owners(members: Iterable[Any]) -> dict[TP, Member]:
    owners: dict[TP, Member] = {}
    for member in members:
        owner = Member(
            member_host=str(member.host or "").lstrip("/"),
            consumer_id=str(member.member_id or ""),
            client_id=str(member.client_id or ""),
        )
        assignment = getattr(member, "assignment", None)
        for tp in getattr(assignment, "topic_partitions", None) or ():
            owners[(tp.topic, tp.partition)] = owner
    return owners
