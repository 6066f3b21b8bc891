"""Committed record writes -> change event payloads, as Change Data Capture builds them (pure).

Per transaction (one `Store.apply`), in commit order:

- create: CREATE with every record field (null when empty); changedFields empty.
- update: UPDATE with only the changed fields set (LastModifiedDate always among them);
  unchanged fields are null; changedFields / nulledFields are bitmaps over the schema.
- delete: DELETE, header only.
- Writes of one entity and change type with identical payloads (a mass update, a batch
  delete) merge into one event whose recordIds lists every record.
- Gap events (GAP_CREATE/UPDATE/DELETE) carry only the header and record ids,
  changeOrigin "" and sequenceNumber 1; they merge like change events.
- Changes past the transaction's overflow threshold (100,000, a create or delete counting
  one and an update one per changed field) become one GAP_OVERFLOW event per entity with
  recordIds `["000000000000000AAA"]`.

Every event of a transaction shares transactionKey, commitNumber, commitTimestamp and
commitUser; sequenceNumber counts the transaction's events from 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from emulators.salesforce import timefmt
from emulators.salesforce.config import API_VERSION
from emulators.salesforce.pubsub.avro_schema import ChangeEventSchema, EventField
from emulators.salesforce.pubsub.bitmap import encode_bitmap
from emulators.salesforce.store import Caller, CommittedChange

OVERFLOW_THRESHOLD = 100_000
EMPTY_RECORD_ID = "000000000000000AAA"
_KINDS = {"create": "CREATE", "update": "UPDATE", "delete": "DELETE"}


@dataclass(frozen=True, slots=True)
class Transaction:
    """Header values every event of one committed transaction shares."""

    key: str
    commit_number: int
    timestamp_ms: int
    user_id: str
    origin: str


@dataclass(slots=True)
class Faults:
    """How many upcoming record changes come out as gap or overflow events (consumed here)."""

    gap: int = 0
    overflow: int = 0
    threshold: int = OVERFLOW_THRESHOLD


@dataclass(frozen=True, slots=True)
class EventBody:
    """One change event: header values and record field values, ready for Avro."""

    header: Mapping[str, Any]
    fields: Mapping[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        return {"ChangeEventHeader": dict(self.header), **self.fields}


def change_origin(caller: Caller) -> str:
    """`com/salesforce/api/rest/60.0;client=<name>`; empty for writes not made by an API."""
    if caller.origin is None and caller.api_version is None:
        return ""
    origin = f"com/salesforce/api/rest/{caller.api_version or API_VERSION}"
    return f"{origin};client={caller.origin}" if caller.origin else origin


def avro_value(fdef: EventField, value: Any) -> Any:
    """A stored field value in the change event's Avro representation."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return timefmt.to_ms(value)
    if isinstance(value, date):
        return timefmt.to_ms(datetime(value.year, value.month, value.day, tzinfo=UTC))
    if fdef.type in ("double", "currency", "percent"):
        return float(value)
    return value


def _changed(schema: ChangeEventSchema, change: CommittedChange) -> list[EventField]:
    before = change.before or {}
    return [
        f
        for f in schema.fields
        if f.name == "LastModifiedDate" or before.get(f.name) != change.after.get(f.name)
    ]


def _payload(schema: ChangeEventSchema, change: CommittedChange) -> tuple[str, dict[str, Any]]:
    """(changeType, {header bitmaps and record fields}) of a regular change event."""
    empty: dict[str, Any] = {"nulledFields": [], "diffFields": [], "changedFields": []}
    if change.kind == "create":
        values = {f.name: avro_value(f, change.after.get(f.name)) for f in schema.fields}
        return "CREATE", {**empty, **values}
    if change.kind == "delete":
        return "DELETE", {**empty, **dict.fromkeys((f.name for f in schema.fields), None)}
    changed = _changed(schema, change)
    values = dict.fromkeys((f.name for f in schema.fields), None)
    values.update({f.name: avro_value(f, change.after.get(f.name)) for f in changed})
    nulled = [f.position for f in changed if change.after.get(f.name) is None]
    return "UPDATE", {
        "nulledFields": encode_bitmap(nulled),
        "diffFields": [],
        "changedFields": encode_bitmap(f.position for f in changed),
        **values,
    }


def _cost(schema: ChangeEventSchema, change: CommittedChange) -> int:
    return len(_changed(schema, change)) if change.kind == "update" else 1


def build_events(
    schema: ChangeEventSchema,
    changes: Sequence[CommittedChange],
    tx: Transaction,
    faults: Faults,
) -> list[EventBody]:
    """The change events of one transaction's writes to `schema.entity` (others ignored)."""
    # Key -> (changeType, recordIds, payload); dicts keep first-occurrence order.
    merged: dict[str, tuple[str, list[str], dict[str, Any]]] = {}
    overflowed = False
    spent = 0
    for change in changes:
        if change.sobject.name != schema.entity:
            continue
        spent += _cost(schema, change)
        if faults.overflow > 0 or spent > faults.threshold:
            faults.overflow = max(0, faults.overflow - 1)
            overflowed = True
            continue
        payload: dict[str, Any]
        if faults.gap > 0:
            faults.gap -= 1
            change_type, payload = f"GAP_{_KINDS[change.kind]}", {}
        else:
            change_type, payload = _payload(schema, change)
        key = repr((change_type, sorted(payload.items())))
        if key in merged:
            merged[key][1].append(change.id)
        else:
            merged[key] = (change_type, [change.id], payload)
    events: list[tuple[str, list[str], dict[str, Any]]] = list(merged.values())
    if overflowed:
        events.append(("GAP_OVERFLOW", [EMPTY_RECORD_ID], {}))
    return [
        _body(schema, tx, sequence, change_type, record_ids, payload)
        for sequence, (change_type, record_ids, payload) in enumerate(events, 1)
    ]


def _body(
    schema: ChangeEventSchema,
    tx: Transaction,
    sequence: int,
    change_type: str,
    record_ids: list[str],
    payload: Mapping[str, Any],
) -> EventBody:
    gap = change_type.startswith("GAP_")
    header = {
        "entityName": schema.entity,
        "recordIds": record_ids,
        "changeType": change_type,
        "changeOrigin": "" if gap else tx.origin,
        "transactionKey": tx.key,
        "sequenceNumber": 1 if gap else sequence,
        "commitTimestamp": tx.timestamp_ms,
        "commitNumber": tx.commit_number,
        "commitUser": tx.user_id,
        "nulledFields": list(payload.get("nulledFields", [])),
        "diffFields": list(payload.get("diffFields", [])),
        "changedFields": list(payload.get("changedFields", [])),
    }
    bitmaps = ("nulledFields", "diffFields", "changedFields")
    values = dict.fromkeys((f.name for f in schema.fields), None)
    values.update({k: v for k, v in payload.items() if k not in bitmaps})
    return EventBody(header, values)
