"""How Salesforce's answers become per-op outcomes (`Applied`), for the Salesforce target.

Failures stay with the ops they belong to: a call that fails for a transient reason makes
its ops retriable, a call Salesforce refuses as a whole (a FatalError, e.g. a body it cannot
parse) is split until the refused records are alone (`isolated`), and per-record errors
that are transient (UNABLE_TO_LOCK_ROW) are retriable rather than dead letters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from connectors.salesforce.errors import SalesforceApiError, SalesforceRetriableError
from connectors.salesforce.types import RecordResult, UpsertResult
from connectors.sinks.model import Applied
from foundation.errors import FatalError, RetriableError, SyncError, TargetGone, WriteConflict

GONE_CODES = frozenset({"ENTITY_IS_DELETED", "NOT_FOUND", "INVALID_CROSS_REFERENCE_KEY"})
#: Per-record errors that go away by themselves: the record is tried again, not refused.
TRANSIENT_CODES = frozenset({"UNABLE_TO_LOCK_ROW"})

Item = TypeVar("Item")
Answer = TypeVar("Answer", RecordResult, UpsertResult)


def conflict(command: Mapping[str, Any], target_id: str, changed: datetime) -> Applied:
    """An update skipped because the record changed after the decision (by a person, or by
    an earlier sync write the decision had not seen yet)."""
    error = WriteConflict(
        f"{command['entity']} {target_id} was changed in Salesforce at {changed.isoformat()}, "
        "after this write was decided; skipped, the engine decides again with that change",
        flow=command.get("flow"),
        record=f"{command['entity']}/{target_id}",
    )
    return Applied(command, ok=False, target_id=target_id, error=error, modstamp=changed)


def applied(
    command: Mapping[str, Any], outcome: RecordResult | UpsertResult, target_id: str | None
) -> Applied:
    """One record's answer: written, refused (a dead letter), retriable (a lock), or gone
    (an update of a record a person deleted after the write was decided).

    `target_id` None (an upsert that made nothing): the error names the record by its
    external id and the result keeps the op's link key."""
    name = target_id or f"{command.get('external_id_field')}={command.get('external_id')}"
    if outcome.success:
        return Applied(
            command, ok=True, target_id=target_id, written=dict(command.get("fields") or {})
        )
    first = outcome.errors[0] if outcome.errors else None
    message = "; ".join(f"{e.code}: {e.message}" for e in outcome.errors) or "unknown error"
    error: SyncError
    if first is not None and first.code in GONE_CODES and command["action"] == "update":
        error = TargetGone(
            f"{command['entity']} {name} is gone from Salesforce ({message}); this "
            "update was decided before the delete and is skipped: the flow's delete rule "
            "applies when capture delivers the delete",
            record=f"{command['entity']}/{name}",
        )
        error.flow = command.get("flow")
        return Applied(command, ok=False, target_id=target_id, error=error)
    if first is not None and first.code in TRANSIENT_CODES:
        error = SalesforceRetriableError(
            f"Salesforce could not {command['action']} {command['entity']} {name} now: "
            f"{message}; tried again later",
            error_code=first.code,
            record=f"{command['entity']}/{name}",
        )
        error.flow = command.get("flow")
        return Applied(command, ok=False, target_id=target_id, error=error)
    error = SalesforceApiError(
        f"Salesforce refused {command['action']} of {command['entity']} {name}: {message}",
        status=400,
        error_code=first.code if first else "UNKNOWN",
        fields=first.fields if first else (),
        record=f"{command['entity']}/{name}",
    )
    error.flow = command.get("flow")
    return Applied(command, ok=False, target_id=target_id, error=error)


def refused(command: Mapping[str, Any], error: SyncError, target_id: str | None) -> Applied:
    """An op whose call failed as a whole (or was refused alone, after splitting)."""
    error.flow = error.flow or command.get("flow")
    return Applied(command, ok=False, target_id=target_id, error=error)


async def guarded(
    commands: Sequence[Mapping[str, Any]],
    indexes: Sequence[int],
    work: Awaitable[dict[int, Applied]],
) -> dict[int, Applied]:
    """Run one group's calls; a failure of the group is each of its ops' outcome."""
    try:
        return await work
    except SyncError as exc:
        return {
            i: Applied(commands[i], ok=False, target_id=commands[i].get("target_id"), error=exc)
            for i in indexes
        }


async def isolated(
    call: Callable[[Sequence[Item]], Awaitable[list[Answer]]], items: Sequence[Item]
) -> list[Answer | SyncError]:
    """Call a Collections endpoint; when Salesforce refuses the whole request (FatalError),
    split it until each refused item is alone, so its error stays with its record and the
    others are written. A transient failure is every item's outcome (tried again later)."""
    try:
        return list(await call(items))
    except RetriableError as exc:
        return [exc] * len(items)
    except FatalError as exc:
        if len(items) == 1:
            return [exc]
        half = len(items) // 2
        first = await isolated(call, items[:half])
        return first + await isolated(call, items[half:])
