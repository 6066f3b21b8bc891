"""Avro schema compatibility, delegated to Apache Avro's own checker (`avro.compatibility`).

Levels follow Confluent's meaning: BACKWARD = consumers on the new schema can read data
written with the previous one; FORWARD = consumers on the previous schema can read data
written with the new one; FULL = both; *_TRANSITIVE = against every earlier version, not just
the latest; NONE = no check.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

LEVELS = (
    "NONE",
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
)


class InvalidSchema(ValueError):
    """The text is not a valid Avro schema."""


def parse(schema_str: str) -> avro.schema.Schema:
    """Parse an Avro schema, raising `InvalidSchema` with the parser's reason."""
    try:
        return avro.schema.parse(schema_str)
    except Exception as exc:  # the avro parser raises several unrelated exception types
        raise InvalidSchema(f"Invalid schema: {exc}") from exc


def canonical(schema_str: str) -> str:
    """Whitespace-insensitive form used to recognise an already registered schema."""
    return json.dumps(json.loads(schema_str), separators=(",", ":"), ensure_ascii=False)


def _pair_problems(reader: avro.schema.Schema, writer: avro.schema.Schema, label: str) -> list[str]:
    result = ReaderWriterCompatibilityChecker().get_compatibility(reader, writer)
    if result.compatibility is SchemaCompatibilityType.compatible:
        return []
    details = "; ".join(sorted(result.messages)) or "incompatible"
    locations = ", ".join(sorted(result.locations)) if result.locations else ""
    where = f" at {locations}" if locations else ""
    return [f"{label}: {details}{where}"]


def incompatibilities(new: str, previous: Sequence[str], level: str) -> list[str]:
    """Problems of `new` against `previous` (oldest first) under `level`; [] if compatible."""
    if level not in LEVELS:
        raise ValueError(f"unknown compatibility level {level!r}")
    if level == "NONE" or not previous:
        return []
    against = previous if level.endswith("_TRANSITIVE") else previous[-1:]
    new_schema = parse(new)
    problems: list[str] = []
    for old_str in against:
        old = parse(old_str)
        if level.startswith(("BACKWARD", "FULL")):
            problems += _pair_problems(new_schema, old, "new schema cannot read old data")
        if level.startswith(("FORWARD", "FULL")):
            problems += _pair_problems(old, new_schema, "old schema cannot read new data")
    return problems
