"""The Avro schema of a change event topic, built from the emulator's own sObject table.

Shape (as Salesforce serves it from GetSchema for `/data/TaskChangeEvent`): a record
`com.sforce.eventbus.TaskChangeEvent` whose first field is `ChangeEventHeader` (a record in
`com.salesforce.eventbus` with entityName, recordIds, changeType, changeOrigin,
transactionKey, sequenceNumber, commitTimestamp, commitNumber, commitUser, nulledFields,
diffFields, changedFields, in that order), then every record field as a nullable union
`["null", T]` with default null. Change events leave out Id (it travels in recordIds),
IsDeleted and SystemModstamp. Dates and datetimes are `long` epoch milliseconds (a date
at 00:00 UTC), tagged `Data:DateOnly` / `Data:DateTime` in `doc` as Salesforce does.

The schema id is the schema's fingerprint: the MD5 of its Parsing Canonical Form in
URL-safe base64 without padding (22 characters, like Salesforce's ids).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import fastavro

from emulators.salesforce.schema import FieldDef, ObjectDef

#: Change types in the order of Salesforce's `ChangeType` enum (SNAPSHOT is reserved).
CHANGE_TYPES = (
    "CREATE",
    "UPDATE",
    "DELETE",
    "UNDELETE",
    "GAP_CREATE",
    "GAP_UPDATE",
    "GAP_DELETE",
    "GAP_UNDELETE",
    "GAP_OVERFLOW",
    "SNAPSHOT",
)
#: Fields a change event never carries.
EXCLUDED_FIELDS = frozenset({"Id", "IsDeleted", "SystemModstamp"})

_STRINGS = {"type": "array", "items": "string"}
HEADER_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "ChangeEventHeader",
    "namespace": "com.salesforce.eventbus",
    "fields": [
        {"name": "entityName", "type": "string"},
        {"name": "recordIds", "type": _STRINGS},
        {
            "name": "changeType",
            "type": {
                "type": "enum",
                "name": "ChangeType",
                "namespace": "com.salesforce.eventbus",
                "symbols": list(CHANGE_TYPES),
            },
        },
        {"name": "changeOrigin", "type": "string"},
        {"name": "transactionKey", "type": "string"},
        {"name": "sequenceNumber", "type": "int"},
        {"name": "commitTimestamp", "type": "long"},
        {"name": "commitNumber", "type": "long"},
        {"name": "commitUser", "type": "string"},
        {"name": "nulledFields", "type": _STRINGS},
        {"name": "diffFields", "type": _STRINGS},
        {"name": "changedFields", "type": _STRINGS},
    ],
}

# Salesforce type -> (Avro type, doc tag).
_TYPES: dict[str, tuple[str, str]] = {
    "boolean": ("boolean", "Data:Boolean"),
    "int": ("int", "Data:Integer"),
    "double": ("double", "Data:Double"),
    "currency": ("double", "Data:Currency"),
    "percent": ("double", "Data:Percent"),
    "date": ("long", "Data:DateOnly"),
    "datetime": ("long", "Data:DateTime"),
    "picklist": ("string", "Data:DynamicEnum"),
    "multipicklist": ("string", "Data:MultiEnum"),
    "combobox": ("string", "Data:DynamicEnum"),
    "textarea": ("string", "Data:StringPlusClob"),
    "reference": ("string", "ForeignKey:EntityId"),
}
# Audit fields carry their own name in `doc`, as in Salesforce's schemas.
_AUDIT_DOCS = {
    "CreatedDate": "CreatedDate:DateTime",
    "CreatedById": "CreatedBy:EntityId",
    "LastModifiedDate": "LastModifiedDate:DateTime",
    "LastModifiedById": "LastModifiedBy:EntityId",
}


@dataclass(frozen=True, slots=True)
class EventField:
    """One record field of a change event: its schema position and Salesforce type."""

    name: str
    position: int
    type: str


@dataclass(frozen=True, slots=True)
class ChangeEventSchema:
    """A change event topic's schema: JSON text, fingerprint id and field positions."""

    topic: str
    entity: str
    schema_json: str
    schema_id: str
    fields: tuple[EventField, ...]
    parsed: Any

    def field(self, name: str) -> EventField | None:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        return None


def _custom_field_id(obj: ObjectDef, fdef: FieldDef) -> str:
    """A stable 15-character custom field id (`00N...`), as Salesforce appends to `doc`."""
    digest = hashlib.sha256(f"{obj.name}.{fdef.name}".encode()).hexdigest().upper()
    return "00N" + digest[:12]


def _avro_field(obj: ObjectDef, fdef: FieldDef) -> dict[str, Any]:
    avro_type, doc = _TYPES.get(fdef.type, ("string", "Data:Text"))
    doc = _AUDIT_DOCS.get(fdef.name, doc)
    if fdef.custom:
        doc = f"{doc}:{_custom_field_id(obj, fdef)}"
    return {"name": fdef.name, "type": ["null", avro_type], "doc": doc, "default": None}


def fingerprint(schema_json: str) -> str:
    """Salesforce-style schema id: base64url(MD5(Parsing Canonical Form)), unpadded."""
    canonical = fastavro.schema.to_parsing_canonical_form(json.loads(schema_json))
    digest = hashlib.md5(canonical.encode(), usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def event_name(obj: ObjectDef) -> str:
    """`TaskChangeEvent`; for a custom object `Employee__c`, `Employee__ChangeEvent`."""
    base = obj.name[:-1] if obj.name.endswith("__c") else obj.name
    return f"{base}ChangeEvent"


def change_event_schema(obj: ObjectDef) -> ChangeEventSchema:
    """The `<Object>ChangeEvent` schema for `obj`, fields in the object's own order."""
    record_fields = [f for f in obj.fields if f.name not in EXCLUDED_FIELDS]
    schema = {
        "type": "record",
        "name": event_name(obj),
        "namespace": "com.sforce.eventbus",
        "fields": [
            {"name": "ChangeEventHeader", "type": HEADER_SCHEMA, "doc": "Data:EventHeader"},
            *(_avro_field(obj, f) for f in record_fields),
        ],
    }
    text = json.dumps(schema, separators=(",", ":"))
    return ChangeEventSchema(
        topic=f"/data/{event_name(obj)}",
        entity=obj.name,
        schema_json=text,
        schema_id=fingerprint(text),
        # Position 0 is the header; record fields follow from 1.
        fields=tuple(EventField(f.name, n, f.type) for n, f in enumerate(record_fields, 1)),
        parsed=fastavro.parse_schema(json.loads(text)),
    )
