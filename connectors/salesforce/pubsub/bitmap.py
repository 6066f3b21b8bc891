"""Decode (and encode) the field bitmaps of Pub/Sub API change events. Pure functions.

`changedFields`, `nulledFields` and `diffFields` arrive as lists of strings (Pub/Sub API,
"Event Deserialization Considerations"):

- `'0x650004E0'`: a bitmap over the schema's top-level fields; bit n, counted from the
  least significant bit of the number the hex digits spell, stands for the field at
  position n of the Avro schema (position 0 is ChangeEventHeader).
- `'4-0x10'`: a compound field (a record-typed field, e.g. an address) at position 4, and
  a bitmap over that record's own fields. Decoded names are `Parent.Child`.

Positions have no upper bound: a schema with hundreds of fields gives bitmaps wider than
64 bits, so this works on Python's unbounded ints, never on fixed-width ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_TOP = re.compile(r"^0x([0-9A-Fa-f]+)$")
_NESTED = re.compile(r"^(\d+)-0x([0-9A-Fa-f]+)$")


class BitmapError(ValueError):
    """A bitmap string is malformed or names a position the schema does not have."""


@dataclass(frozen=True, slots=True)
class SchemaField:
    """A top-level field of an event schema and, for a compound field, its nested fields."""

    name: str
    children: tuple[str, ...] = ()


def schema_fields(schema: Mapping[str, Any]) -> tuple[SchemaField, ...]:
    """The top-level fields of an Avro record schema (a parsed JSON dict), in order."""
    out = []
    for field in schema.get("fields", ()):
        record = _record_of(field.get("type"))
        children = tuple(str(f["name"]) for f in record.get("fields", ())) if record else ()
        # The header is a record too, but never a compound data field.
        if field.get("name") == "ChangeEventHeader":
            children = ()
        out.append(SchemaField(str(field["name"]), children))
    return tuple(out)


def _record_of(avro_type: Any) -> Mapping[str, Any] | None:
    """The record schema inside a field type (`record`, or a union holding one)."""
    if isinstance(avro_type, Mapping) and avro_type.get("type") == "record":
        return avro_type
    if isinstance(avro_type, list):
        for member in avro_type:
            found = _record_of(member)
            if found is not None:
                return found
    return None


def positions(hex_digits: str) -> tuple[int, ...]:
    """The set bits of a hex bitmap (without `0x`), lowest first."""
    value = int(hex_digits, 16)
    return tuple(n for n in range(value.bit_length()) if value >> n & 1)


def decode_bitmap(entries: Sequence[str], fields: Sequence[SchemaField]) -> tuple[str, ...]:
    """Field names a bitmap list stands for: top-level names, then `Parent.Child` names."""
    names: list[str] = []
    for entry in entries:
        text = entry.strip()
        top = _TOP.match(text)
        if top:
            for position in positions(top.group(1)):
                names.append(_field(fields, position, text).name)
            continue
        nested = _NESTED.match(text)
        if not nested:
            raise BitmapError(f"malformed field bitmap {entry!r}: expected '0x..' or 'N-0x..'")
        parent = _field(fields, int(nested.group(1)), text)
        if not parent.children:
            raise BitmapError(f"field bitmap {entry!r}: {parent.name} is not a compound field")
        for position in positions(nested.group(2)):
            if position >= len(parent.children):
                raise BitmapError(
                    f"field bitmap {entry!r}: {parent.name} has no nested field {position}"
                )
            names.append(f"{parent.name}.{parent.children[position]}")
    return tuple(names)


def _field(fields: Sequence[SchemaField], position: int, entry: str) -> SchemaField:
    if position >= len(fields):
        raise BitmapError(
            f"field bitmap {entry!r} sets position {position}, but the schema has "
            f"{len(fields)} fields; fetch the event's own schema (its schema_id) to decode it"
        )
    return fields[position]


def _hex(bits: Iterable[int]) -> str:
    value = 0
    for bit in bits:
        value |= 1 << bit
    width = max(1, (value.bit_length() + 7) // 8)
    return "0x" + value.to_bytes(width, "big").hex().upper()


def encode_bitmap(names: Iterable[str], fields: Sequence[SchemaField]) -> list[str]:
    """The bitmap list for field `names` (inverse of `decode_bitmap`, for tests and tools)."""
    index = {f.name: n for n, f in enumerate(fields)}
    top: set[int] = set()
    nested: dict[int, set[int]] = {}
    for name in names:
        parent, _, child = name.partition(".")
        if parent not in index:
            raise BitmapError(f"no field {parent!r} in the schema")
        if not child:
            top.add(index[parent])
            continue
        children = fields[index[parent]].children
        if child not in children:
            raise BitmapError(f"no nested field {name!r} in the schema")
        nested.setdefault(index[parent], set()).add(children.index(child))
    out = [_hex(top)] if top else []
    out.extend(f"{p}-{_hex(kids)}" for p, kids in sorted(nested.items()))
    return out
