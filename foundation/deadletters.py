"""Dead letters: one typed record and one builder for every stage (CDC, engine, sinks).

A dead letter names where the record was (topic, partition, offset; for CDC the change topic
it was bound for and the record id in its source system), why it failed (error class,
reason, flow, record, field) and carries a copy of the record, bounded: a record near or
above the broker's 1 MB message limit must not make a dead letter that cannot be produced
(librdkafka's MSG_SIZE_TOO_LARGE), or the stage would stop there. Key and value are kept
whole up to `MAX_KEY_BYTES` / `MAX_VALUE_BYTES`; beyond, only their start, with
`truncated` set and `value_size` giving the original size; re-drive then reads the
original from where it was. Texts are cut too (a reason may quote a value).

`DeadLetter.to_record()` is the Avro record of schemas/sfpms.DeadLetter.avsc; tests check
the two stay in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, Literal

Stage = Literal["cdc", "engine", "sink"]

#: Whole values up to this size are kept; larger ones keep their first this many bytes.
MAX_VALUE_BYTES = 64 * 1024
MAX_KEY_BYTES = 1024
#: Longest reason kept, in characters (messages should be short; a quoted value may not be).
MAX_REASON_CHARS = 4000
MAX_NAME_CHARS = 1000


def _cut(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 40] + f"... ({len(text) - limit + 40} more characters)"


def _clip(data: bytes | None, limit: int) -> tuple[bytes | None, bool]:
    if data is None or len(data) <= limit:
        return data, False
    return bytes(data[:limit]), True


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead letter (see the module docstring). Build it with `dead_letter`."""

    stage: Stage
    error_class: str
    reason: str
    failed_at: datetime | int
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    key: bytes | None = None
    value: bytes | None = None
    flow: str | None = None
    record: str | None = None
    field: str | None = None
    attempts: int = 1
    value_size: int | None = None
    truncated: bool = False

    def to_record(self) -> dict[str, Any]:
        """The Avro record (schemas/sfpms.DeadLetter.avsc)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> DeadLetter:
        """A dead letter read back from the topic (older records lack the newer fields)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in record.items() if k in names})

    @property
    def message_key(self) -> bytes:
        """The dead-letter topic's message key: the record it is about (bounded)."""
        name = self.record or (self.key or b"").decode(errors="replace") or "unknown"
        return name.encode()[:MAX_KEY_BYTES]

    @property
    def whole(self) -> bool:
        """Whether key and value are the original bytes (re-drive can send them as they are)."""
        return not self.truncated


def dead_letter(
    stage: Stage,
    *,
    error_class: str,
    reason: str,
    flow: str | None = None,
    record: str | None = None,
    field: str | None = None,
    topic: str | None = None,
    partition: int | None = None,
    offset: int | None = None,
    key: bytes | None = None,
    value: bytes | None = None,
    attempts: int = 1,
    failed_at: datetime | int | None = None,
    max_value_bytes: int = MAX_VALUE_BYTES,
) -> DeadLetter:
    """The one dead-letter builder: bounds the copy of key and value and every text."""
    kept_key, key_cut = _clip(key, MAX_KEY_BYTES)
    kept_value, value_cut = _clip(value, max_value_bytes)
    return DeadLetter(
        stage=stage,
        error_class=_cut(error_class, 200) or "Unknown",
        reason=_cut(reason, MAX_REASON_CHARS) or "unknown failure",
        failed_at=failed_at if failed_at is not None else datetime.now(UTC),
        topic=_cut(topic, 249),
        partition=partition,
        offset=offset,
        key=kept_key,
        value=kept_value,
        flow=_cut(flow, MAX_NAME_CHARS),
        record=_cut(record, MAX_NAME_CHARS),
        field=_cut(field, MAX_NAME_CHARS),
        attempts=attempts,
        value_size=len(value) if value is not None else None,
        truncated=key_cut or value_cut,
    )


def dead_letter_for_error(stage: Stage, error: BaseException, **where: Any) -> DeadLetter:
    """A dead letter for an exception: class, reason, and the flow/record/field a SyncError
    names (`where` may add to or override them, and gives topic, key, value, ...)."""
    from foundation.errors import SyncError

    named: dict[str, Any] = {}
    if isinstance(error, SyncError):
        named = {"flow": error.flow, "record": error.record, "field": error.field}
        reason = error.describe()
    else:
        reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    named.update({k: v for k, v in where.items() if k not in ("reason", "error_class")})
    return dead_letter(
        stage,
        error_class=where.get("error_class") or type(error).__name__,
        reason=where.get("reason") or reason,
        **named,
    )
