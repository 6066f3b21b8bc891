"""Reading a topic from its beginning to the end it had when the read started.

The dead-letter listing, the replay's table loader, the capture's positions and the
embedded registry all need "everything this topic holds now", then stop. One loop does it:
the end of each partition is its high watermark taken at the start, a partition is done
when its last record before that end arrived, and the read gives up after a quiet spell
(`idle_s` without a record) so it always stops by itself.

A broker that under-reports an end offset (Tansu with multi-record batches, see
docs/brokers.md) can only make a read stop early, never skip a record in the middle.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, TopicPartition

#: How long one poll waits; the quiet spell is counted in these.
_POLL_S = 0.1


class ReadIncomplete(RuntimeError):
    """A topic could not be read to the end it had when the read started."""


@dataclass(frozen=True, slots=True)
class Record:
    """One record read from a topic."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    #: The record's Kafka timestamp (ms since the epoch; the producer's create time).
    timestamp_ms: int = 0


def read_to_end(
    config: Mapping[str, Any],
    topic: str,
    *,
    idle_s: float = 10.0,
    strict: bool = True,
    partitions: tuple[int, ...] | None = None,
) -> Iterator[Record]:
    """Every record of `topic` (all its partitions, or only `partitions`) from the
    beginning to its current end, in offset order per partition.

    `config` is a consumer configuration (no group is joined: partitions are assigned).
    With `strict`, a broker error or a quiet spell before the end raises ReadIncomplete
    naming the topic and how far it got; without, the read returns what it found (for
    listings where a partial answer beats none). A missing topic yields nothing.
    """
    consumer = Consumer(dict(config))
    try:
        ends = _ends(consumer, topic, partitions)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        reached = dict.fromkeys(ends, -1)
        idle = 0
        while ends and idle * _POLL_S < idle_s:
            msg = consumer.poll(_POLL_S)
            if msg is None:
                idle += 1
                continue
            idle = 0
            error = msg.error()
            if error is not None:
                if strict and error.code() != KafkaError._PARTITION_EOF:
                    raise ReadIncomplete(f"reading {topic}: {error}")
                continue
            record = _record(msg)
            reached[record.partition] = record.offset
            yield record
            if record.offset >= ends.get(record.partition, 0) - 1:
                ends.pop(record.partition, None)
        if ends and strict:
            behind = ", ".join(f"partition {p} at {reached[p]} of {end}" for p, end in ends.items())
            raise ReadIncomplete(
                f"could not read {topic} to its end within {idle_s:g} s of quiet ({behind}); "
                "is the broker reachable and the topic readable?"
            )
    finally:
        consumer.close()


def latest_by_key(records: Iterator[Record]) -> dict[bytes, bytes]:
    """The value each key has last, as a compacted topic keeps it (a tombstone removes it;
    records without a key are left out)."""
    latest: dict[bytes, bytes] = {}
    for record in records:
        if record.key is None:
            continue
        if record.value is None:
            latest.pop(record.key, None)
        else:
            latest[record.key] = record.value
    return latest


def _ends(consumer: Consumer, topic: str, only: tuple[int, ...] | None) -> dict[int, int]:
    """The partitions that hold records, with their high watermarks now."""
    metadata = consumer.list_topics(topic, timeout=15).topics.get(topic)
    if metadata is None or metadata.error is not None:
        return {}
    ends: dict[int, int] = {}
    for p in metadata.partitions:
        if only is not None and p not in only:
            continue
        low, high = consumer.get_watermark_offsets(
            TopicPartition(topic, p), timeout=15, cached=False
        )
        if high > low:
            ends[p] = high
    return ends


def _record(msg: Message) -> Record:
    _kind, stamp = msg.timestamp()
    return Record(
        int(msg.partition() or 0), int(msg.offset() or 0), msg.key(), msg.value(), max(stamp, 0)
    )
