"""API JSON records -> the Avro entity records of schemas/, driven by the schema itself. Pure.

The entity schema is the one list of fields: a field the API sends that the schema lacks is
dropped, a field the schema has that the API did not send is null. Values are checked and
converted to what the Avro serializer wants (aware UTC datetimes, `datetime.date`, 32-bit
ints); a value that does not fit raises `EnvelopeError` naming system, entity, record and
field, and the producer dead-letters that record and moves on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, Literal

from connectors.custompms import formats as pms_formats
from connectors.salesforce import formats as sf_formats
from foundation.errors import FatalError
from foundation.kafka.schemas import entity_type, generation, schema_dict

Kind = Literal["string", "boolean", "int", "long", "double", "date", "timestamp", "record"]
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


class EnvelopeError(FatalError):
    """A record cannot be expressed in its Avro schema; it goes to the dead-letter topic."""

    def __init__(
        self, message: str, *, system: str, entity: str, record: str | None, field: str | None
    ) -> None:
        self.system = system
        self.entity = entity
        super().__init__(message, flow=f"cdc {system}/{entity}", record=record, field=field)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of an entity schema, reduced to what conversion needs."""

    name: str
    kind: Kind
    nullable: bool
    fields: tuple[FieldSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class ValueFormats:
    """How one API writes datetimes and dates."""

    parse_datetime: Callable[[str], datetime]
    parse_date: Callable[[str], date]


FORMATS: dict[str, ValueFormats] = {
    "salesforce": ValueFormats(sf_formats.parse_datetime, sf_formats.parse_date),
    "custompms": ValueFormats(pms_formats.parse_timestamp, pms_formats.parse_date),
}

_PRIMITIVES: dict[str, Kind] = {
    "string": "string",
    "boolean": "boolean",
    "int": "int",
    "long": "long",
    "double": "double",
}


def _spec(name: str, avro: Any) -> FieldSpec:
    nullable = False
    if isinstance(avro, list):
        branches = [b for b in avro if b != "null"]
        nullable = len(branches) < len(avro)
        if len(branches) != 1:
            raise ValueError(f"field {name}: only [null, T] unions are supported")
        avro = branches[0]
    if isinstance(avro, str) and avro in _PRIMITIVES:
        return FieldSpec(name, _PRIMITIVES[avro], nullable)
    if isinstance(avro, dict):
        logical = avro.get("logicalType")
        if logical == "date":
            return FieldSpec(name, "date", nullable)
        if logical in ("timestamp-millis", "timestamp-micros"):
            return FieldSpec(name, "timestamp", nullable)
        if avro.get("type") == "record":
            children = tuple(_spec(f["name"], f["type"]) for f in avro["fields"])
            return FieldSpec(name, "record", nullable, children)
        if avro.get("type") in _PRIMITIVES:
            return FieldSpec(name, _PRIMITIVES[avro["type"]], nullable)
    raise ValueError(f"field {name}: unsupported Avro type {avro!r}")


def entity_fields(system: str, entity: str) -> tuple[FieldSpec, ...]:
    """The fields of an entity schema, e.g. ("salesforce", "task") -> Id, Subject, ...
    (with the fields the mapping in effect adds, see `schemas.install_extensions`)."""
    return _entity_fields(system, entity.lower(), generation())


@cache
def _entity_fields(system: str, entity: str, _generation: int) -> tuple[FieldSpec, ...]:
    schema = schema_dict(entity_type(system, entity))
    return tuple(_spec(f["name"], f["type"]) for f in schema["fields"])


def field_names(system: str, entity: str) -> tuple[str, ...]:
    """Top-level field names of an entity schema, in schema order."""
    return tuple(f.name for f in entity_fields(system, entity))


@dataclass(frozen=True, slots=True)
class _Where:
    system: str
    entity: str
    record: str | None

    def error(self, path: str, problem: str) -> EnvelopeError:
        schema = entity_type(self.system, self.entity.lower())
        return EnvelopeError(
            f"cannot convert {self.system} {self.entity} {self.record or '(no id)'} field "
            f"{path}: {problem}; correct the value in {self.system} or the schema "
            f"schemas/{schema}.avsc, then re-drive the record from the dead-letter topic",
            system=self.system,
            entity=self.entity,
            record=self.record,
            field=path,
        )


def convert_record(system: str, entity: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The Avro entity record for one API record (see the module docstring)."""
    record_id = raw.get("Id") if system == "salesforce" else raw.get("id")
    where = _Where(system, entity, str(record_id) if record_id is not None else None)
    return _record(entity_fields(system, entity), raw, FORMATS[system], where, "")


def _record(
    specs: tuple[FieldSpec, ...],
    raw: Mapping[str, Any],
    formats: ValueFormats,
    where: _Where,
    prefix: str,
) -> dict[str, Any]:
    return {
        spec.name: _value(spec, raw.get(spec.name), formats, where, prefix + spec.name)
        for spec in specs
    }


def _value(spec: FieldSpec, value: Any, formats: ValueFormats, where: _Where, path: str) -> Any:
    if value is None:
        if not spec.nullable:
            raise where.error(path, "the value is missing but the schema requires one")
        return None
    kind = spec.kind
    got = type(value).__name__
    if kind == "string":
        if not isinstance(value, str):
            raise where.error(path, f"expected a string, got {got}")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise where.error(path, f"expected true/false, got {got}")
        return value
    if kind in ("int", "long"):
        number = _integer(value)
        if number is None:
            raise where.error(path, f"expected an integer, got {got}")
        low, high = (INT_MIN, INT_MAX) if kind == "int" else (LONG_MIN, LONG_MAX)
        if not low <= number <= high:
            raise where.error(path, f"integer outside the Avro {kind} range [{low}, {high}]")
        return number
    if kind == "double":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise where.error(path, f"expected a number, got {got}")
        return float(value)
    if kind in ("date", "timestamp"):
        if not isinstance(value, str):
            raise where.error(path, f"expected a {kind} string, got {got}")
        try:
            return formats.parse_date(value) if kind == "date" else formats.parse_datetime(value)
        except ValueError as exc:
            raise where.error(path, f"not a valid {kind} ({exc.__class__.__name__})") from exc
    if not isinstance(value, Mapping):
        raise where.error(path, f"expected an object, got {got}")
    return _record(spec.fields, value, formats, where, path + ".")


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
