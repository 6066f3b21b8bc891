"""Read the dead-letter topic for the dashboard: a bounded list and counts per flow.

Records are Confluent-framed Avro (`sfpms.DeadLetter`). The dashboard decodes them with the
schema shipped in `schemas/` and never contacts the schema registry, so it keeps working
when the registry is down. Only the descriptive fields leave this module: the original key
and value bytes are dropped and the reason goes through the log redactor.
"""

from __future__ import annotations

import io
import logging
import struct
import time
from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from fastavro import schemaless_reader, schemaless_writer

from foundation.kafka import topics as t
from foundation.kafka.schemas import parsed
from foundation.logs import RedactingFilter
from foundation.settings import Settings

log = logging.getLogger(__name__)

SCHEMA = "sfpms.DeadLetter"
_MAGIC = 0
_MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class DeadLetterView:
    """What the dashboard shows of one dead letter (never its payload bytes)."""

    stage: str
    flow: str | None
    record: str | None
    field: str | None
    reason: str
    error_class: str
    failed_at: str | None
    attempts: int
    source: str | None  # topic/partition@offset the record came from, when it came from Kafka

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "flow": self.flow,
            "record": self.record,
            "field": self.field,
            "reason": self.reason,
            "error_class": self.error_class,
            "failed_at": self.failed_at,
            "attempts": self.attempts,
            "source": self.source,
        }


def decode(value: bytes) -> dict[str, Any]:
    """Decode a Confluent-framed `sfpms.DeadLetter` with the local schema."""
    if len(value) < 5 or value[0] != _MAGIC:
        raise ValueError("not a Confluent-framed Avro record (magic byte missing)")
    record = schemaless_reader(io.BytesIO(value[5:]), parsed(SCHEMA), None)
    if not isinstance(record, dict):
        raise ValueError("dead letter did not decode to a record")
    return record


def encode(record: dict[str, Any], schema_id: int = 1) -> bytes:
    """Confluent framing of a dead letter (tests and tools that bypass the registry)."""
    out = io.BytesIO()
    out.write(struct.pack(">bI", _MAGIC, schema_id))
    schemaless_writer(out, parsed(SCHEMA), record)
    return out.getvalue()


def view(record: dict[str, Any], redactor: RedactingFilter) -> DeadLetterView:
    """The safe, displayable part of a decoded dead letter."""
    failed = record.get("failed_at")
    if isinstance(failed, datetime):
        failed_at: str | None = failed.astimezone(UTC).isoformat()
    elif isinstance(failed, int | float):
        failed_at = datetime.fromtimestamp(failed / 1000, UTC).isoformat()
    else:
        failed_at = None
    source = None
    if record.get("topic"):
        source = f"{record['topic']}/{record.get('partition')}@{record.get('offset')}"
    reason = redactor.redact(str(record.get("reason") or ""))
    if len(reason) > _MAX_REASON:
        reason = reason[:_MAX_REASON] + "…"
    return DeadLetterView(
        stage=str(record.get("stage") or ""),
        flow=record.get("flow") or None,
        record=record.get("record"),
        field=record.get("field"),
        reason=reason,
        error_class=str(record.get("error_class") or ""),
        failed_at=failed_at,
        attempts=int(record.get("attempts") or 1),
        source=source,
    )


class DeadLetterReader:
    """Follows the dead-letter topic from its beginning; keeps the newest `keep` entries."""

    def __init__(self, settings: Settings, *, keep: int = 500) -> None:
        self.settings = settings
        self.topic = settings.topic(t.DEADLETTER)
        self.recent: deque[DeadLetterView] = deque(maxlen=keep)
        self.by_flow: Counter[str] = Counter()
        self.read = 0
        self.undecodable = 0
        secrets = _secret_values(settings)
        self._redactor = RedactingFilter(secrets)
        group = settings.topic("sfpms-observe-dlq")
        self._consumer = Consumer(settings.consumer_config(group))
        self._assigned = False

    def poll(self, max_messages: int = 500, budget_s: float = 0.5) -> int:
        """Read what is new (bounded in count and time); returns how many were read."""
        if not self._assigned and not self._assign():
            return 0
        count = 0
        deadline = time.monotonic() + budget_s
        while count < max_messages and time.monotonic() < deadline:
            message = self._consumer.poll(0.05)
            if message is None:
                break
            if message.error() is not None:
                continue
            count += 1
            self._add(message.value() or b"")
        return count

    def _assign(self) -> bool:
        metadata = self._consumer.list_topics(self.topic, timeout=5)
        meta = metadata.topics.get(self.topic)
        if meta is None or meta.error is not None or not meta.partitions:
            return False
        self._consumer.assign(
            [TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in sorted(meta.partitions)]
        )
        self._assigned = True
        return True

    def _add(self, value: bytes) -> None:
        self.read += 1
        try:
            entry = view(decode(value), self._redactor)
        except Exception as exc:  # a foreign or newer record: count it, show that it exists
            self.undecodable += 1
            log.debug("undecodable dead letter: %s", exc)
            entry = DeadLetterView(
                "", None, None, None, f"undecodable dead letter ({type(exc).__name__})",
                "", None, 1, None,
            )  # fmt: skip
        self.recent.append(entry)
        self.by_flow[entry.flow or ""] += 1

    def entries(self, limit: int = 100, flow: str | None = None) -> list[DeadLetterView]:
        """Newest first, optionally of one flow."""
        rows = [e for e in reversed(self.recent) if flow is None or e.flow == flow]
        return rows[:limit]

    def close(self) -> None:
        self._consumer.close()


def _secret_values(settings: Settings) -> list[str]:
    from pydantic import SecretStr

    values = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            values.append(value.get_secret_value())
    return values
