"""What a target adapter reports for each command, and the records built from it. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from foundation.deadletters import DeadLetter
from foundation.deadletters import dead_letter as build_dead_letter
from foundation.errors import SyncError, WriteConflict


@dataclass(frozen=True, slots=True)
class Applied:
    """The outcome of one write command at its target."""

    command: Mapping[str, Any]
    ok: bool
    target_id: str | None = None
    created: bool = False
    matched: bool = False
    version: int | None = None
    modstamp: datetime | None = None
    error: SyncError | None = None
    written: Mapping[str, Any] = field(default_factory=dict)

    @property
    def conflict(self) -> bool:
        """Skipped because the target changed after the decision (not a failure)."""
        return isinstance(self.error, WriteConflict)


def write_result(applied: Applied, now: datetime | None = None) -> dict[str, Any]:
    """The WriteResult record (schemas/sfpms.WriteResult.avsc) for an applied command."""
    command = applied.command
    return {
        "command_id": command["command_id"],
        "flow": command["flow"],
        "link_key": command["link_key"],
        "system": command["system"],
        "entity": command["entity"],
        "action": command["action"],
        "outcome": "ok" if applied.ok else "conflict" if applied.conflict else "failed",
        "target_id": applied.target_id or command.get("target_id"),
        "created": applied.created,
        "matched": applied.matched,
        "version": applied.version,
        "written": dict(applied.written if applied.ok else command.get("fields") or {}),
        "target_modstamp": applied.modstamp,
        "error": applied.error.describe() if applied.error is not None else None,
        "cause": command.get("cause"),
        "acked_at": now or datetime.now(UTC),
    }


def dead_letter(
    applied: Applied,
    *,
    topic: str,
    partition: int | None,
    offset: int | None,
    key: bytes | None,
    value: bytes | None,
    attempts: int = 1,
) -> DeadLetter:
    """The dead letter for a command its target refused (or the sink gave up on): the one
    builder of foundation/deadletters.py, so the copy of the command is bounded."""
    error = applied.error
    command = applied.command
    return build_dead_letter(
        "sink",
        error_class=type(error).__name__ if error is not None else "Unknown",
        reason=error.describe() if error is not None else "unknown failure",
        flow=command.get("flow"),
        record=applied.target_id
        or command.get("target_id")
        or command.get("external_id")
        or command.get("link_key"),
        field=error.field if error is not None else None,
        topic=topic,
        partition=partition,
        offset=offset,
        key=key,
        value=value,
        attempts=attempts,
    )


def undecodable(
    exc: Exception,
    *,
    topic: str,
    partition: int | None,
    offset: int | None,
    key: bytes | None,
    value: bytes | None,
) -> DeadLetter:
    """The dead letter for a write command the sink could not decode."""
    return build_dead_letter(
        "sink",
        error_class=type(exc).__name__,
        reason=f"undecodable write command at {topic} {partition}:{offset}: {exc}",
        record=(key or b"").decode(errors="replace"),
        topic=topic,
        partition=partition,
        offset=offset,
        key=key,
        value=value,
    )
