"""Typed change events decoded from the Pub/Sub API's Avro payloads (pure).

A `ChangeEvent` holds the header, the decoded changed/nulled/diff field names, and the
record values that are set, converted by the schema's `doc` tags: `...:DateTime` fields
become aware UTC datetimes, `...:DateOnly` fields dates (both arrive as epoch ms).
Unchanged fields of an update arrive as null and are left out of `values`; a field set to
null is in `nulled_fields` (and `changed_fields`), not in `values`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import fastavro

from connectors.salesforce.pubsub.bitmap import SchemaField, decode_bitmap, schema_fields

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
GAP_TYPES = frozenset({"GAP_CREATE", "GAP_UPDATE", "GAP_DELETE", "GAP_UNDELETE", "GAP_OVERFLOW"})


@dataclass(frozen=True, slots=True)
class EventSchema:
    """A topic schema as GetSchema returns it, parsed once and cached by id."""

    schema_id: str
    schema_json: str
    parsed: Any
    fields: tuple[SchemaField, ...]
    kinds: Mapping[str, str]  # field name -> "datetime" | "date" for converted fields

    @classmethod
    def parse(cls, schema_id: str, schema_json: str) -> EventSchema:
        raw = json.loads(schema_json)
        kinds: dict[str, str] = {}
        for item in raw.get("fields", ()):
            doc = str(item.get("doc", ""))
            if ":DateTime" in doc or doc.startswith("DateTime"):
                kinds[str(item["name"])] = "datetime"
            elif ":DateOnly" in doc:
                kinds[str(item["name"])] = "date"
        return cls(schema_id, schema_json, fastavro.parse_schema(raw), schema_fields(raw), kinds)


@dataclass(frozen=True, slots=True)
class ChangeEventHeader:
    entity_name: str
    record_ids: tuple[str, ...]
    change_type: str
    change_origin: str
    transaction_key: str
    sequence_number: int
    commit_timestamp: datetime
    commit_number: int
    commit_user: str

    @property
    def client_name(self) -> str | None:
        """The `client=` of changeOrigin (`Sforce-Call-Options` of the writer), if any."""
        _, found, client = self.change_origin.partition(";client=")
        return (client or None) if found else None

    @property
    def is_gap(self) -> bool:
        """A gap or overflow event: no field values; fetch the records to learn the change."""
        return self.change_type in GAP_TYPES


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One change event of a Subscribe stream."""

    replay_id: bytes
    event_id: str
    schema_id: str
    header: ChangeEventHeader
    changed_fields: tuple[str, ...]
    nulled_fields: tuple[str, ...]
    diff_fields: tuple[str, ...]
    values: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class KeepAlive:
    """An empty FetchResponse: no new events; the stream's newest position."""

    latest_replay_id: bytes
    pending: int


class EventDecodeError(ValueError):
    """A payload does not match its schema (a corrupt event or the wrong schema)."""


def _convert(kind: str | None, value: Any) -> Any:
    if kind == "datetime" and isinstance(value, int):
        return _EPOCH + timedelta(milliseconds=value)
    if kind == "date" and isinstance(value, int):
        return (_EPOCH + timedelta(milliseconds=value)).date()
    return value


def decode_event(
    schema: EventSchema, payload: bytes, *, replay_id: bytes, event_id: str
) -> ChangeEvent:
    """The typed event of one Avro payload written with `schema`."""
    try:
        record = fastavro.schemaless_reader(io.BytesIO(payload), schema.parsed, None)
    except Exception as exc:  # fastavro raises several types on bad input
        raise EventDecodeError(
            f"event {event_id} (replay id {replay_id.hex()}) does not decode with schema "
            f"{schema.schema_id}: {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(record, dict) or "ChangeEventHeader" not in record:
        raise EventDecodeError(f"event {event_id} is not a change event (no ChangeEventHeader)")
    head = record["ChangeEventHeader"]
    header = ChangeEventHeader(
        entity_name=str(head["entityName"]),
        record_ids=tuple(head["recordIds"]),
        change_type=str(head["changeType"]),
        change_origin=str(head["changeOrigin"]),
        transaction_key=str(head["transactionKey"]),
        sequence_number=int(head["sequenceNumber"]),
        commit_timestamp=_EPOCH + timedelta(milliseconds=int(head["commitTimestamp"])),
        commit_number=int(head["commitNumber"]),
        commit_user=str(head["commitUser"]),
    )
    values: dict[str, Any] = {
        name: _convert(schema.kinds.get(name), value)
        for name, value in record.items()
        if name != "ChangeEventHeader" and value is not None
    }
    return ChangeEvent(
        replay_id=replay_id,
        event_id=event_id,
        schema_id=schema.schema_id,
        header=header,
        changed_fields=decode_bitmap(head.get("changedFields") or [], schema.fields),
        nulled_fields=decode_bitmap(head.get("nulledFields") or [], schema.fields),
        diff_fields=decode_bitmap(head.get("diffFields") or [], schema.fields),
        values=MappingProxyType(values),
    )
