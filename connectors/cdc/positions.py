"""Source positions (Kafka Connect's source offsets) in the compacted `sfpms.cdc.positions`.

One SourcePosition record per source, keyed by its name: `salesforce/<sObject>` holds the
(SystemModstamp, Id) watermark of a polled sObject, `salesforce/pubsub/<Entity>ChangeEvent`
the Pub/Sub replay id and the time up to which every change is published,
`backfill/salesforce/<sObject>` the last Id a backfill published (resumable),
`custompms/feed` the last published feed seq, `custompms/<entity>` a poll-mode
(updated_at, id) watermark, and `sync/first-start` when the sync first started (see
`ensure_first_start`). A position is written only after
every envelope it covers was acknowledged (see `Publisher.checkpoint`), so the topic is never
ahead of the change topics.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from connectors.cdc.watermark import Mark
from foundation.kafka import topics as t
from foundation.kafka.serde import TopicCodec
from foundation.settings import Settings

log = logging.getLogger(__name__)

FEED_KEY = "custompms/feed"


def salesforce_key(sobject: str) -> str:
    return f"salesforce/{sobject}"


def poll_key(entity: str) -> str:
    return f"custompms/{entity}"


def pubsub_key(topic: str) -> str:
    """`/data/TaskChangeEvent` -> `salesforce/pubsub/TaskChangeEvent`."""
    return f"salesforce/pubsub/{topic.rsplit('/', 1)[-1]}"


def backfill_key(system: str, entity: str) -> str:
    return f"backfill/{system}/{entity}"


@dataclass(frozen=True, slots=True)
class Position:
    """How far one source has published."""

    source: str
    mark: Mark | None = None
    seq: int | None = None
    snapshot_done: bool = False
    replay_id: bytes | None = None

    def to_record(self, now: datetime) -> dict[str, object]:
        """The SourcePosition record (schemas/sfpms.SourcePosition.avsc)."""
        return {
            "source": self.source,
            "modstamp": self.mark.stamp if self.mark else None,
            "last_id": self.mark.id if self.mark else None,
            "seq": self.seq,
            "snapshot_done": self.snapshot_done,
            "updated_at": now,
            "replay_id": self.replay_id,
        }

    @classmethod
    def from_record(cls, record: dict[str, object]) -> Position:
        stamp, last_id, seq = record.get("modstamp"), record.get("last_id"), record.get("seq")
        replay = record.get("replay_id")
        mark = (
            Mark(stamp, last_id)
            if isinstance(stamp, datetime) and isinstance(last_id, str)
            else None
        )
        return cls(
            source=str(record["source"]),
            mark=mark,
            seq=int(seq) if isinstance(seq, int) else None,
            snapshot_done=bool(record.get("snapshot_done")),
            replay_id=bytes(replay) if isinstance(replay, bytes | bytearray) and replay else None,
        )


def load_positions(
    settings: Settings, codec: TopicCodec, timeout: float = 30.0
) -> dict[str, Position]:
    """The latest position per source, read from the start of the positions topic to its end.

    Blocking (run it in a thread). A broker that under-reports the end offset (Tansu with
    multi-record batches) can only make this return an older position: more re-published
    envelopes, never a skipped one.
    """
    from foundation.kafka.tail import latest_by_key, read_to_end

    config = settings.consumer_config(f"sfpms-cdc-positions-{uuid.uuid4().hex[:8]}")
    records = read_to_end(config, settings.topic(t.SOURCE_POSITIONS), idle_s=timeout)
    return {
        key.decode(): Position.from_record(codec.decode(value))
        for key, value in latest_by_key(records).items()
    }


#: The position that records when the sync first started (its `mark.stamp`): records
#: created before it existed before the sync, and wait for onboarding (docs/mapping.md).
FIRST_START_KEY = "sync/first-start"


def first_start(positions: Mapping[str, Position]) -> datetime | None:
    """When the sync first started, if it has."""
    found = positions.get(FIRST_START_KEY)
    return found.mark.stamp if found is not None and found.mark is not None else None


def ensure_first_start(settings: Settings, codec: TopicCodec) -> datetime:
    """The sync's first start, recorded now if it never was. Blocking.

    The first process to start (capture or engine worker) writes it; two starting at once
    may both write, a few seconds apart, and the later one stands: harmless, since only
    records created in between are affected (they wait for onboarding too).
    """
    from datetime import UTC

    from confluent_kafka import Producer

    known = first_start(load_positions(settings, codec))
    if known is not None:
        return known
    now = datetime.now(UTC)
    record = Position(FIRST_START_KEY, Mark(now, FIRST_START_KEY)).to_record(now)
    producer = Producer(settings.producer_config(**{"client.id": "sfpms-first-start"}))
    producer.produce(
        settings.topic(t.SOURCE_POSITIONS), key=FIRST_START_KEY.encode(), value=codec.encode(record)
    )
    if producer.flush(30):
        raise RuntimeError("the broker did not acknowledge the sync's first-start record")
    log.info("the sync starts for the first time at %s", now.isoformat())
    return now
