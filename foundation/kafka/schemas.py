"""Load the Avro schemas in `schemas/` and say which schema each topic carries.

Each .avsc file holds one named type; files reference each other by full name (fastavro
resolves `sfpms.Source` from `sfpms.Source.avsc`). `schema_str()` returns the self-contained
expansion that is registered in the schema registry (subject `<topic>-value`, Confluent's
TopicNameStrategy).

Entity records follow the mapping in effect: the fields a mapping adds (a custom field such
as `Region__c`, or `custom_fields.region` on a Custompms record) are installed with
`install_extensions` at start-up, before any codec is built; each extra field is a nullable
field with a null default, so the change is backward compatible for the registry as long as
a field keeps its type (`streams.mapping.avro` computes them).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
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


#: record full name -> extra Avro fields (installed from the mapping in effect)
_EXTENSIONS: dict[str, tuple[dict[str, Any], ...]] = {}
_GENERATION = [0]


def install_extensions(extensions: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """Use these extra fields in every record type named by a key (e.g. `sfpms.salesforce.
    Task`, or a nested `sfpms.custompms.Address`) from now on. Replaces earlier ones."""
    _EXTENSIONS.clear()
    _EXTENSIONS.update(
        {name: tuple(dict(f) for f in fields) for name, fields in extensions.items() if fields}
    )
    _GENERATION[0] += 1
    for cached in (_schema_dict, schema_str, parsed):
        cached.cache_clear()


def installed_extensions() -> dict[str, tuple[dict[str, Any], ...]]:
    """The extra fields in use (a copy)."""
    return dict(_EXTENSIONS)


def generation() -> int:
    """Changes whenever `install_extensions` runs (for caches built on the schemas)."""
    return _GENERATION[0]


def base_schema_dict(name: str) -> dict[str, Any]:
    """The named type as its .avsc file defines it, without mapping extensions."""
    with as_file(files("schemas") / f"{name}.avsc") as path:
        if not path.is_file():
            raise KeyError(f"no schema file schemas/{name}.avsc")
        loaded = load_schema(str(path), _write_hint=False)
    assert isinstance(loaded, dict)
    return loaded


def _extend(node: Any, namespace: str, extensions: Mapping[str, Sequence[Any]]) -> None:
    """Append extension fields to every record definition they name (in place)."""
    if isinstance(node, list):
        for branch in node:
            _extend(branch, namespace, extensions)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "record":
        name = str(node["name"])
        space = str(node.get("namespace", namespace))
        full = name if "." in name else f"{space}.{name}" if space else name
        for field in node["fields"]:
            _extend(field["type"], space, extensions)
        present = {f["name"] for f in node["fields"]}
        extra = [copy.deepcopy(f) for f in extensions.get(full, ()) if f["name"] not in present]
        node["fields"] = [*node["fields"], *extra]
    elif isinstance(kind, dict | list):
        _extend(kind, namespace, extensions)
    elif kind == "array":
        _extend(node.get("items"), namespace, extensions)
    elif kind == "map":
        _extend(node.get("values"), namespace, extensions)


@cache
def _schema_dict(name: str) -> dict[str, Any]:
    loaded = base_schema_dict(name)
    if _EXTENSIONS:
        _extend(loaded, "", _EXTENSIONS)
    return loaded


def schema_dict(name: str) -> dict[str, Any]:
    """The expanded (self-contained) schema of the named type, as a plain dict, with the
    installed mapping extensions."""
    return _schema_dict(name)


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
