"""The entity-schema fields a mapping adds to the shipped .avsc files (pure).

The shipped schemas in `schemas/` list the standard fields of each entity. A mapping may
carry more: a Salesforce custom field (`Region__c`), a Custompms custom field
(`custom_fields.region`), a field only a match criterion names. For each such field this
module gives the Avro field to add, typed from the row (the Custompms data type; validation
checks it against the Salesforce describe and the Custompms OpenAPI):

    string, enum, reference -> string    boolean -> boolean    number -> double
    date -> int (logicalType date)       datetime -> long (logicalType timestamp-millis)
    a constant -> the type of its value  a match-only field -> string

Every added field is nullable with a null default, so adding or removing a row is a
backward-compatible schema change; changing a row's type is not, and the schema registry
refuses it (see docs/mapping.md, "Schema changes"). Nested Custompms paths add nested
records (`custom_fields` becomes `sfpms.custompms.TaskCustomFields`).

The design choice (typed fields generated from the mapping, rather than one generic
`map<string, union>` for all custom values) is measured in benchmarks/schema_shapes.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from foundation.kafka.schemas import (
    base_schema_dict,
    entity_type,
    install_extensions,
    installed_extensions,
)
from streams.mapping.converters import Constant
from streams.mapping.table import FieldRow, Flow

AvroField = dict[str, Any]

_BY_TYPE: dict[str, Any] = {
    "string": "string",
    "enum": "string",
    "reference": "string",
    "boolean": "boolean",
    "number": "double",
    "date": {"type": "int", "logicalType": "date"},
    "datetime": {"type": "long", "logicalType": "timestamp-millis"},
}


def avro_type(row: FieldRow) -> Any:
    """The (non-null) Avro type of a row's values."""
    if isinstance(row.to_pms, Constant):
        value = row.to_pms.value
        if isinstance(value, bool):
            return "boolean"
        return "long" if isinstance(value, int) else "string"
    return _BY_TYPE.get(row.pms_type, "string")


def _nullable(name: str, kind: Any) -> AvroField:
    return {"name": name, "type": ["null", kind], "default": None}


def _record(record_name: str, namespace: str, fields: list[AvroField]) -> dict[str, Any]:
    return {"type": "record", "name": record_name, "namespace": namespace, "fields": fields}


def _present(schema: Mapping[str, Any]) -> dict[str, Any]:
    """field name -> its (non-null) type, of one record schema."""
    found: dict[str, Any] = {}
    for field in schema.get("fields", []):
        kind = field["type"]
        if isinstance(kind, list):
            kind = next((b for b in kind if b != "null"), kind)
        found[field["name"]] = kind
    return found


class _Builder:
    """Collects the extensions of one entity record (and its nested records)."""

    def __init__(self, system: str, entity: str) -> None:
        self.full = entity_type(system, entity)
        self.namespace, _, self.entity_name = self.full.rpartition(".")
        self.base = base_schema_dict(self.full)
        self.extensions: dict[str, list[AvroField]] = {}
        # new nested records by their path ("custom_fields"), built up before they are added
        self.new_records: dict[str, dict[str, Any]] = {}

    def add(self, dotted: str, kind: Any) -> None:
        parts = dotted.split(".")
        schema: Mapping[str, Any] | None = self.base
        owner = self.full
        path: list[str] = []
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            path.append(part)
            present = _present(schema) if schema is not None else {}
            if part in present:
                child = present[part]
                if last:
                    return  # the shipped schema has it already
                if isinstance(child, dict) and child.get("type") == "record":
                    schema = child
                    child_name = str(child["name"])
                    owner = child_name if "." in child_name else f"{self.namespace}.{child_name}"
                    continue
                return  # a scalar where the path goes deeper: validation reports it
            key = ".".join(path)
            if last:
                self._append(owner, key, _nullable(part, kind))
                return
            record = self.new_records.get(key)
            if record is None:
                name = self.entity_name + "".join(p.title().replace("_", "") for p in path)
                record = self.new_records[key] = _record(name, self.namespace, [])
                self._append(owner, key, _nullable(part, record))
            schema, owner = record, f"{self.namespace}.{record['name']}"

    def _append(self, owner: str, key: str, field: AvroField) -> None:
        if owner in {f"{self.namespace}.{r['name']}" for r in self.new_records.values()}:
            record = next(
                r for r in self.new_records.values() if f"{self.namespace}.{r['name']}" == owner
            )
            if field["name"] not in {f["name"] for f in record["fields"]}:
                record["fields"].append(field)
            return
        fields = self.extensions.setdefault(owner, [])
        if field["name"] not in {f["name"] for f in fields}:
            fields.append(field)


def entity_extensions(flows: Iterable[Flow]) -> dict[str, list[AvroField]]:
    """Record full name -> the Avro fields the flows need beyond the shipped schemas."""
    builders: dict[tuple[str, str], _Builder] = {}

    def builder(system: str, entity: str) -> _Builder:
        key = (system, entity)
        if key not in builders:
            builders[key] = _Builder(system, entity)
        return builders[key]

    for flow in flows:
        sf = builder("salesforce", flow.sf_object.lower())
        pms = builder("custompms", flow.pms_resource)
        for row in flow.rows:
            if row.sf_field is not None and not row.is_reference:
                sf.add(row.sf_field, _BY_TYPE.get(row.pms_type, "string"))
            if not row.is_reference:
                pms.add(row.pms_field, avro_type(row))
        for part in flow.match:
            if part.row_key is None:
                sf.add(part.sf_field, "string")
                if part.pms_field != "id":
                    pms.add(part.pms_field, "string")
        for path, _values in flow.scope.pms_filter:
            pms.add(path, "string")
    merged: dict[str, list[AvroField]] = {}
    for built in builders.values():
        for owner, fields in built.extensions.items():
            merged.setdefault(owner, []).extend(fields)
    return merged


def install(flows: Iterable[Flow]) -> dict[str, list[AvroField]]:
    """Make the schemas of this process follow `flows` (call once at start-up)."""
    extensions = entity_extensions(flows)
    install_extensions(extensions)
    return extensions


@contextmanager
def installed_for(flows: Iterable[Flow]) -> Iterator[dict[str, list[AvroField]]]:
    """`install` for a block, restoring the previous extensions after it."""
    before = installed_extensions()
    try:
        yield install(flows)
    finally:
        install_extensions(before)
