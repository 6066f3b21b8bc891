"""Load the Avro schemas in `schemas/` and say which schema each topic carries.

Each .avsc file holds one named type; files reference each other by full name (fastavro
resolves `sfpms.Source` from `sfpms.Source.avsc`). `schema_str()` returns the self-contained
expansion that is registered in the schema registry (subject `<topic>-value`, Confluent's
TopicNameStrategy).
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import as_file, files
from typing import Any

from fastavro import parse_schema
from fastavro.schema import load_schema

from foundation.kafka import topics as t

_ENTITY_TYPES = {
    ("salesforce", "division"): "Division",
    ("salesforce", "organization"): "Organization",
    ("salesforce", "task"): "Task",
    ("custompms", "customer"): "Customer",
    ("custompms", "project"): "Project",
    ("custompms", "task"): "Task",
}


def entity_type(system: str, entity: str) -> str:
    """Full Avro name of an entity record, e.g. `sfpms.salesforce.Task`."""
    return f"sfpms.{system}.{_ENTITY_TYPES[(system, entity)]}"


def change_type(system: str, entity: str) -> str:
    """Full Avro name of a change envelope, e.g. `sfpms.custompms.ProjectChange`."""
    return entity_type(system, entity) + "Change"


@cache
def schema_dict(name: str) -> dict[str, Any]:
    """The expanded (self-contained) schema of the named type, as a plain dict."""
    with as_file(files("schemas") / f"{name}.avsc") as path:
        if not path.is_file():
            raise KeyError(f"no schema file schemas/{name}.avsc")
        loaded = load_schema(str(path), _write_hint=False)
    assert isinstance(loaded, dict)
    return loaded


@cache
def schema_str(name: str) -> str:
    """The expanded schema as the JSON string the registry stores."""
    return json.dumps(schema_dict(name))


@cache
def parsed(name: str) -> Any:
    """fastavro's parsed form, for schemaless reads and writes."""
    return parse_schema(schema_dict(name))


def all_schema_names() -> list[str]:
    """Every schema file's type name."""
    return sorted(
        entry.name.removesuffix(".avsc")
        for entry in files("schemas").iterdir()
        if entry.name.endswith(".avsc")
    )


def schema_for_topic(topic: str) -> str:
    """Name of the value schema of an (unprefixed) catalogue topic."""
    parts = topic.split(".")
    if len(parts) == 3 and parts[2] == "changes":
        return change_type(parts[0], parts[1])
    if len(parts) == 2 and parts[1] == "writes":
        return "sfpms.WriteCommand"
    fixed = {
        t.RESULTS: "sfpms.WriteResult",
        t.ROUTES: "sfpms.LinkEvent",
        # Forwards keep their own change schema; the engine encodes only refusals here.
        t.INBOX: "sfpms.LinkEvent",
        t.DEADLETTER: "sfpms.DeadLetter",
        t.REDRIVEN: "sfpms.Redriven",
        t.SOURCE_POSITIONS: "sfpms.SourcePosition",
    }
    if topic in fixed:
        return fixed[topic]
    raise KeyError(f"topic {topic!r} is not in the catalogue")
