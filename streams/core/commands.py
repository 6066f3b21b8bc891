"""Writes that travel together: a decision's intents become one command per system and link.

All writes one input leads to for one link and one system go to the sink as one
`WriteCommand`, applied in order and acknowledged with one result: a Project and its Task
created together (the Task's project_id taken from the Project's create, `WriteOp.refs`),
or an edit reaching both the Project and the Task. Fewer commands, fewer results for the
engine to consume, fewer API calls.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from foundation.wire import Source, WriteCommand, WriteOp
from foundation.wire.values import System
from streams.core.model import WriteIntent


def commands_for(
    intents: Sequence[WriteIntent], cause: Source | None, now: int
) -> list[WriteCommand]:
    """One command per (system, link key) of `intents`, their ops in decision order."""
    groups: dict[tuple[System, str], list[WriteIntent]] = {}
    for intent in intents:
        groups.setdefault((intent.system, intent.link_key), []).append(intent)
    commands: list[WriteCommand] = []
    for (system, link_key), group in groups.items():
        ops = _ops(group)
        command_id = _command_id(link_key, system, ops, cause)
        commands.append(WriteCommand(command_id, link_key, system, ops, now, cause))
    return commands


def _ops(intents: Sequence[WriteIntent]) -> tuple[WriteOp, ...]:
    ops: list[WriteOp] = []
    created: dict[str, int] = {}  # flow -> index of the op creating its record
    for intent in intents:
        missing = set(intent.refs.values()) - set(created)
        if missing:
            raise ValueError(
                f"{intent.flow} refers to the record of {', '.join(sorted(missing))}, which "
                "no earlier write of the same command creates"
            )
        if intent.action == "create":
            created[intent.flow] = len(ops)
        ops.append(
            WriteOp(
                flow=intent.flow,
                entity=intent.entity,
                action=intent.action,
                target_id=intent.target_id,
                external_id_field=intent.external_id_field,
                external_id=intent.external_id,
                idempotency_key=intent.idempotency_key,
                if_match=intent.if_match,
                fields=dict(intent.fields),
                match=dict(intent.match),
                refs={name: created[flow] for name, flow in intent.refs.items()},
            )
        )
    return tuple(ops)


def _command_id(link_key: str, system: System, ops: Sequence[WriteOp], cause: Source | None) -> str:
    """A stable id: the same change deciding the same writes gives the same id, so a
    redelivered change produces a command the sink recognises."""
    parts = [link_key, system]
    for op in ops:
        parts += [
            op.flow,
            op.entity,
            op.action,
            op.target_id or "",
            op.idempotency_key or "",
            repr(sorted(op.fields.items())),
            repr(sorted(op.refs.items())),
        ]
    if cause is not None:
        parts += [cause.id, str(cause.modstamp), str(cause.seq)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
