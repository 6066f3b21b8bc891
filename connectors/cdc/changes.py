"""API records and feed entries -> change envelopes (Debezium's shape). Pure.

Decides the op (c/u/d/r) and the origin (sync/person/unknown) of each change and builds the
envelope of `schemas/sfpms.<system>.<Entity>Change.avsc`, keyed by the record id. See
docs/cdc.md for the rules and why.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from connectors.cdc.convert import EnvelopeError, convert_record
from connectors.custompms.formats import parse_timestamp
from connectors.custompms.types import FeedEntry
from foundation.deadletters import DeadLetter
from foundation.deadletters import dead_letter as build_dead_letter
from foundation.entities import RESOURCE_ENTITY
from foundation.kafka.topics import changes_topic
from foundation.wire.values import Origin

Op = Literal["c", "u", "d", "r"]

_FEED_OPS: dict[str, Op] = {"create": "c", "update": "u", "delete": "d"}


@dataclass(frozen=True, slots=True)
class Emission:
    """One envelope ready to publish: topic (unprefixed), key, value and what it is about."""

    topic: str
    key: bytes
    value: dict[str, Any]
    system: str
    entity: str
    op: Op
    modstamp: datetime | None


def _source(
    system: str,
    entity: str,
    record_id: str,
    *,
    modstamp: datetime | None,
    origin: Origin,
    actor: str | None,
    commit_ts: datetime | None,
    version: int | None = None,
    seq: int | None = None,
    snapshot: bool = False,
    scope: Mapping[str, bool] | None = None,
    onboarding: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "system": system,
        "entity": entity,
        "id": record_id,
        "version": version,
        "modstamp": modstamp,
        "origin": origin,
        "actor": actor,
        "commit_ts": commit_ts,
        "seq": seq,
        "snapshot": snapshot,
        "scope": dict(scope) if scope else None,
        "onboarding": dict(onboarding) if onboarding is not None else None,
    }


def _emission(
    system: str,
    entity: str,
    op: Op,
    record: dict[str, Any],
    source: dict[str, Any],
    now: datetime,
) -> Emission:
    before, after = (record, None) if op == "d" else (None, record)
    value = {"op": op, "before": before, "after": after, "source": source, "ts_ms": now}
    return Emission(
        topic=changes_topic(system, entity.lower()),
        key=str(source["id"]).encode(),
        value=value,
        system=system,
        entity=entity,
        op=op,
        modstamp=source["modstamp"],
    )


# -- Salesforce ---------------------------------------------------------------------------


def same_user(a: str | None, b: str | None) -> bool:
    """Salesforce ids compare on their case-sensitive 15-character form."""
    return a is not None and b is not None and a[:15] == b[:15]


def salesforce_op(record: Mapping[str, Any], covered: datetime | None) -> Op:
    """d when deleted; c when never modified since creation or created after `covered` (the
    watermark the poll started from, None = nothing covered yet); otherwise u."""
    if record.get("IsDeleted") is True:
        return "d"
    created = record.get("CreatedDate")
    if created is None:
        return "u"
    if covered is None or created == record.get("SystemModstamp") or created > covered:
        return "c"
    return "u"


def salesforce_origin(last_modified_by: str | None, sync_user_id: str) -> Origin:
    """sync when the record was last written by the user the product runs as."""
    if last_modified_by is None:
        return "unknown"
    return "sync" if same_user(last_modified_by, sync_user_id) else "person"


def salesforce_emission(
    sobject: str,
    raw: Mapping[str, Any],
    *,
    sync_user_id: str,
    covered: datetime | None,
    snapshot: bool,
    now: datetime,
    origin: Origin | None = None,
    op: Op | None = None,
    commit_ts: datetime | None = None,
    scope: Mapping[str, bool] | None = None,
    onboarding: Mapping[str, Any] | None = None,
) -> Emission:
    """The envelope for one record read from Salesforce (raises EnvelopeError).

    Polling decides op and origin from the record (`salesforce_op`, `salesforce_origin`);
    Change Data Capture knows them from its events and passes `origin`, `op` and the
    event's `commit_ts` (the record read afterwards still gives `after` and `modstamp`).
    `scope` are the record's scope tags (`connectors/cdc/scope.py`); `onboarding` what
    `sfpms onboard` decided for it (see schemas/sfpms.Source.avsc).
    """
    record = convert_record("salesforce", sobject, raw)
    if op is None:
        op = "r" if snapshot else salesforce_op(record, covered)
    if op == "d" and not record.get("IsDeleted"):
        record["IsDeleted"] = True
    modstamp = record.get("SystemModstamp")
    if origin is None:
        origin = salesforce_origin(record.get("LastModifiedById"), sync_user_id)
    source = _source(
        "salesforce",
        sobject,
        record["Id"],
        modstamp=modstamp,
        origin=origin,
        actor=record.get("LastModifiedById"),
        commit_ts=commit_ts or modstamp,
        snapshot=snapshot,
        scope=scope,
        onboarding=onboarding,
    )
    return _emission("salesforce", sobject, op, record, source, now)


def pubsub_origin(client: str | None, sync_client: str) -> Origin:
    """sync when a change event's changeOrigin names the sync's own client
    (`Sforce-Call-Options: client=<SFPMS_CLIENT_NAME>` on its writes), else person."""
    return "sync" if client is not None and client == sync_client else "person"


# -- Custompms ----------------------------------------------------------------------------


def custompms_origin(actor: str | None, client_name: str) -> Origin:
    """sync when the change feed names this product's API client as the actor."""
    if actor is None:
        return "unknown"
    return "sync" if actor == client_name else "person"


def feed_emission(change: FeedEntry, *, client_name: str, now: datetime) -> Emission:
    """The envelope for one change-feed entry (raises EnvelopeError).

    The entry's `at` (the record's updated_at after the change; for a delete the deletion
    time) is the change's modstamp and commit time.
    """
    entity = RESOURCE_ENTITY[change.resource]
    record = convert_record("custompms", entity, change.record)
    try:
        at = parse_timestamp(change.at)
    except ValueError as exc:
        raise EnvelopeError(
            f"cannot read the time of change-feed entry {change.seq} ({entity} {change.id}); "
            "the feed must carry RFC 3339 timestamps",
            system="custompms",
            entity=entity,
            record=change.id,
            field="at",
        ) from exc
    source = _source(
        "custompms",
        entity,
        change.id,
        version=change.version,
        modstamp=at,
        origin=custompms_origin(change.actor, client_name),
        actor=change.actor,
        commit_ts=at,
        seq=change.seq,
    )
    return _emission("custompms", entity, _FEED_OPS[change.op], record, source, now)


def custompms_op(record: Mapping[str, Any], raw: Mapping[str, Any], covered: datetime | None) -> Op:
    """Op of a polled record: d for a tombstone (`deleted_at` set), c when at version 1 or
    created after `covered`, else u."""
    if raw.get("deleted_at"):
        return "d"
    created = record.get("created_at")
    if record.get("version") == 1 or covered is None:
        return "c"
    if created is not None and created > covered:
        return "c"
    return "u"


def polled_emission(
    resource: str,
    raw: Mapping[str, Any],
    *,
    covered: datetime | None,
    snapshot: bool,
    now: datetime,
    onboarding: Mapping[str, Any] | None = None,
) -> Emission:
    """The envelope for a record read by listing (poll mode or snapshot). Listing does not
    say who made the change, so the origin is unknown."""
    entity = RESOURCE_ENTITY[resource]
    record = convert_record("custompms", entity, raw)
    op: Op = "r" if snapshot else custompms_op(record, raw, covered)
    modstamp = record.get("updated_at")
    source = _source(
        "custompms",
        entity,
        record["id"],
        version=record.get("version"),
        modstamp=modstamp,
        origin="unknown",
        actor=None,
        commit_ts=modstamp,
        snapshot=snapshot,
        onboarding=onboarding,
    )
    return _emission("custompms", entity, op, record, source, now)


# -- dead letters -------------------------------------------------------------------------


def raw_bytes(raw: Mapping[str, Any] | FeedEntry) -> bytes:
    """The original JSON of a record or feed entry, for the dead letter's `value`."""
    body = asdict(raw) if isinstance(raw, FeedEntry) else dict(raw)
    return json.dumps(body, separators=(",", ":"), default=str).encode()


def raw_bytes_of(raw: Any) -> bytes:
    """The JSON of anything read from an API (an unreadable feed entry, say)."""
    return json.dumps(raw, separators=(",", ":"), default=str).encode()


def dead_letter(
    error: EnvelopeError | Exception,
    *,
    key: str | None,
    value: bytes,
    now: datetime,
    system: str,
    entity: str,
) -> DeadLetter:
    """The dead letter for a record CDC could not publish (foundation/deadletters.py: the copy
    of the record is bounded). `topic` is the change topic it was bound for; the record itself
    stays in its source system under `record` (re-drive reads it from there again)."""
    if isinstance(error, EnvelopeError):
        reason, flow, field = error.describe(), error.flow, error.field
    else:
        reason = f"cannot publish {system} {entity} {key}: {error}"
        flow, field = f"cdc {system}/{entity}", None
    return build_dead_letter(
        "cdc",
        error_class=type(error).__name__,
        reason=reason,
        flow=flow,
        record=key,
        field=field,
        topic=changes_topic(system, entity.lower()),
        key=key.encode() if key is not None else None,
        value=value,
        failed_at=now,
    )
