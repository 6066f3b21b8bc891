"""What a target adapter reports for each op, and the records built from it. Pure.

A sink consumes `WriteCommand`s (one or more ops for one link) and hands the ops of a batch,
flattened in order, to its target adapter as plain dicts (`flatten`): each carries the op's
fields plus its command's `link_key`, and `refs` renumbered to positions in the flattened
list. The adapter returns one `Applied` per op; `result_for` regroups them into one
`WriteResult` per command.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from foundation.deadletters import DeadLetter
from foundation.deadletters import dead_letter as build_dead_letter
from foundation.errors import RetriableError, SyncError, TargetGone, WriteConflict
from foundation.wire import OpOutcome, WriteCommand, WriteResult
from foundation.wire.writes import OpStatus


@dataclass(frozen=True, slots=True)
class Applied:
    """The outcome of one op at its target."""

    command: Mapping[str, Any]
    ok: bool
    target_id: str | None = None
    created: bool = False
    matched: bool = False
    version: int | None = None
    modstamp: datetime | None = None
    error: SyncError | None = None
    written: Mapping[str, Any] = field(default_factory=dict)
    #: The target record's values after the write (dotted paths), where the API returns them.
    record: Mapping[str, Any] | None = None

    @property
    def conflict(self) -> bool:
        """Skipped because the target changed after the decision (not a failure)."""
        return isinstance(self.error, WriteConflict)

    @property
    def gone(self) -> bool:
        """Skipped because a person deleted the target meanwhile (not a failure)."""
        return isinstance(self.error, TargetGone)

    @property
    def status(self) -> OpStatus:
        """The op's outcome on the wire and in the sink's metrics."""
        if self.ok:
            return "ok"
        return "conflict" if self.conflict else "gone" if self.gone else "failed"


@dataclass(frozen=True, slots=True)
class CommandApplied:
    """The outcomes of one command's ops. It must be tried again (all its ops: applying one
    twice is harmless) while any op failed for a transient reason."""

    command: WriteCommand
    ops: tuple[Applied, ...]

    @property
    def error(self) -> SyncError | None:
        """The first transient failure among the ops, if any (then the command waits)."""
        return next((a.error for a in self.ops if isinstance(a.error, RetriableError)), None)


def flatten(commands: Sequence[WriteCommand]) -> list[dict[str, Any]]:
    """The ops of `commands` in order, as the dicts target adapters take."""
    ops: list[dict[str, Any]] = []
    for command in commands:
        first = len(ops)
        for op in command.ops:
            body = op.to_avro()
            body["refs"] = {name: first + index for name, index in op.refs.items()}
            body["link_key"] = command.link_key
            body["system"] = command.system
            ops.append(body)
    return ops


def regroup(commands: Sequence[WriteCommand], applied: Sequence[Applied]) -> list[CommandApplied]:
    """The flattened ops' outcomes, back per command."""
    grouped: list[CommandApplied] = []
    done = 0
    for command in commands:
        grouped.append(CommandApplied(command, tuple(applied[done : done + len(command.ops)])))
        done += len(command.ops)
    return grouped


def result_for(command: WriteCommand, applied: Sequence[Applied], now: int) -> WriteResult:
    """The WriteResult of a command from its ops' outcomes (in op order)."""
    return WriteResult(
        command_id=command.command_id,
        link_key=command.link_key,
        system=command.system,
        outcomes=tuple(op_outcome(a) for a in applied),
        acked_at=now,
        cause=command.cause,
    )


def op_outcome(applied: Applied) -> OpOutcome:
    """The wire outcome of one applied op."""
    op = applied.command
    status = applied.status
    modstamp = applied.modstamp
    return OpOutcome(
        flow=op["flow"],
        entity=op["entity"],
        action=op["action"],
        outcome=status,
        target_id=applied.target_id or op.get("target_id"),
        created=applied.created,
        matched=applied.matched,
        version=applied.version,
        written=dict(applied.written if applied.ok else op.get("fields") or {}),
        record=_scalars(applied.record) if applied.record is not None else None,
        target_modstamp=int(modstamp.timestamp() * 1000) if modstamp is not None else None,
        error=applied.error.describe() if applied.error is not None else None,
    )


def _scalars(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record's scalar values (what the wire's map of JSON scalars can carry)."""
    return {k: v for k, v in record.items() if v is None or isinstance(v, bool | int | float | str)}


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
    """The dead letter for an op its target refused (or the sink gave up on): the one
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
