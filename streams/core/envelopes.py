"""Conversions between the Avro records on the topics and the core's own types. Pure.

Change envelopes (Debezium's shape) become `Change`; `WriteIntent` becomes a WriteCommand;
a WriteResult becomes a `WriteOutcome`; `LinkChange` becomes a LinkEvent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from foundation.deadletters import Stage, dead_letter
from streams.core.model import Change, LinkChange, Problem, WriteIntent, WriteOutcome
from streams.core.values import to_millis


def change_from_envelope(envelope: Mapping[str, Any]) -> Change:
    """The core's view of a change envelope."""
    source = envelope["source"]
    op = envelope["op"]
    record = envelope["before"] if op == "d" else envelope["after"]
    ts = to_millis(source.get("modstamp")) or to_millis(source.get("commit_ts"))
    if ts is None:
        ts = to_millis(envelope["ts_ms"]) or 0
    return Change(
        system=source["system"],
        entity=source["entity"],
        id=source["id"],
        op=op,
        record=record,
        ts=ts,
        origin=source.get("origin") or "unknown",
        version=source.get("version"),
    )


def command_id(intent: WriteIntent, cause: Mapping[str, Any] | None) -> str:
    """A stable id for a write: the same change deciding the same write gives the same id,
    so a redelivered change produces a command the sink recognises."""
    parts = [
        intent.flow,
        intent.link_key,
        intent.system,
        intent.entity,
        intent.action,
        intent.target_id or "",
        intent.idempotency_key or "",
        repr(sorted(intent.fields.items())),
    ]
    if cause is not None:
        parts += [str(cause.get("id")), str(cause.get("modstamp")), str(cause.get("seq"))]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def command_from_intent(
    intent: WriteIntent, cause: Mapping[str, Any] | None, now: int
) -> dict[str, Any]:
    """A WriteCommand record (schemas/sfpms.WriteCommand.avsc)."""
    return {
        "command_id": command_id(intent, cause),
        "flow": intent.flow,
        "link_key": intent.link_key,
        "system": intent.system,
        "entity": intent.entity,
        "action": intent.action,
        "target_id": intent.target_id,
        "external_id_field": intent.external_id_field,
        "external_id": intent.external_id,
        "idempotency_key": intent.idempotency_key,
        "if_match": intent.if_match,
        "fields": dict(intent.fields),
        "match": dict(intent.match),
        "cause": dict(cause) if cause is not None else None,
        "issued_at": now,
    }


def outcome_from_result(
    result: Mapping[str, Any], command_external_id: str | None = None
) -> WriteOutcome:
    """The core's view of a WriteResult record."""
    return WriteOutcome(
        flow=result["flow"],
        link_key=result["link_key"],
        system=result["system"],
        entity=result["entity"],
        action=result["action"],
        ok=result["outcome"] == "ok",
        target_id=result.get("target_id"),
        written=result.get("written") or {},
        version=result.get("version"),
        modstamp=to_millis(result.get("target_modstamp")),
        external_id=command_external_id or _external_id(result),
        created=bool(result.get("created")),
        error=result.get("error"),
        rejected=result["outcome"] == "rejected",
        conflict=result["outcome"] == "conflict",
    )


def _external_id(result: Mapping[str, Any]) -> str | None:
    key = result.get("link_key") or ""
    return key[4:] if key.startswith("pms:") else None


def result_key(result: Mapping[str, Any]) -> str:
    """Key of a WriteResult on the acks topic: the hub it belongs to (a Salesforce id).

    A Custompms-born record's Salesforce twin gets its id from the upsert, so its result is
    keyed by that new id; a failed upsert has none and goes to its `pms:` link key.
    """
    if result["system"] == "salesforce" and result["action"] == "upsert":
        return result.get("target_id") or result["link_key"]
    return str(result["link_key"])


def link_event(change: LinkChange, now: int) -> dict[str, Any]:
    """A LinkEvent record (schemas/sfpms.LinkEvent.avsc)."""
    return {
        "pms_id": change.pms_id,
        "pms_entity": change.pms_entity,
        "link_key": change.link_key,
        "flow": change.flow,
        "action": change.action,
        "at": now,
    }


def rejection_result(change: LinkChange, reason: str, now: int) -> dict[str, Any]:
    """A WriteResult telling a hub its link to `change.pms_id` was refused (already taken)."""
    return {
        "command_id": f"reject:{change.link_key}:{change.pms_id}",
        "flow": change.flow,
        "link_key": change.link_key,
        "system": "custompms",
        "entity": change.pms_entity,
        "action": "create",
        "outcome": "rejected",
        "target_id": change.pms_id,
        "created": False,
        "matched": False,
        "version": None,
        "written": {},
        "target_modstamp": None,
        "error": reason,
        "cause": None,
        "acked_at": now,
    }


def link_change_from_event(event: Mapping[str, Any]) -> LinkChange:
    return LinkChange(
        pms_id=event["pms_id"],
        pms_entity=event["pms_entity"],
        link_key=event["link_key"],
        flow=event["flow"],
        action=event["action"],
    )


def dead_letter_for(
    problem: Problem,
    *,
    stage: Stage,
    now: int,
    topic: str | None = None,
    partition: int | None = None,
    offset: int | None = None,
    key: bytes | None = None,
    value: bytes | None = None,
) -> dict[str, Any]:
    """A DeadLetter record for a problem found while processing a consumed record (the one
    builder, foundation/deadletters.py: the copy of the record is bounded)."""
    return dead_letter(
        stage,
        error_class=problem.error_class,
        reason=problem.reason,
        flow=problem.flow,
        record=problem.record,
        field=problem.field,
        topic=topic,
        partition=partition,
        offset=offset,
        key=key,
        value=value,
        failed_at=now,
    ).to_record()
