"""Read a Custompms OpenAPI document the way the mapping needs it: by resource and dotted path.

Follows local `$ref`s, unwraps the nullable forms FastAPI/pydantic emit (`anyOf: [X, null]`,
`type: [X, "null"]`, OpenAPI 3.0 `nullable: true`) and single-entry `allOf` wrappers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Schema = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Resolved:
    """A schema with refs followed and nullability pulled out."""

    schema: Schema
    nullable: bool
    read_only: bool


@dataclass(frozen=True, slots=True)
class ResourceSchemas:
    """The schemas of one resource: as read, as created (POST body), as updated (PATCH body)."""

    read: Schema | None
    create: Schema | None
    update: Schema | None


def resolve(openapi: Schema, node: Schema) -> Resolved:
    """Follow refs and unwrap nullable/allOf wrappers; readOnly anywhere on the way counts."""
    nullable = bool(node.get("nullable"))
    read_only = bool(node.get("readOnly"))
    for _ in range(32):  # bounded: a ref cycle must not hang start-up
        if "$ref" in node:
            node = _deref(openapi, node["$ref"])
        elif "anyOf" in node or "oneOf" in node:
            options = node.get("anyOf") or node.get("oneOf") or []
            real = [o for o in options if o.get("type") != "null"]
            nullable = nullable or len(real) < len(options)
            if len(real) != 1:
                break
            node = real[0]
        elif isinstance(node.get("allOf"), list) and len(node["allOf"]) == 1:
            node = node["allOf"][0]
        else:
            break
        nullable = nullable or bool(node.get("nullable"))
        read_only = read_only or bool(node.get("readOnly"))
    types = node.get("type")
    if isinstance(types, list):
        nullable = nullable or "null" in types
        real_types = [t for t in types if t != "null"]
        node = {**node, "type": real_types[0] if len(real_types) == 1 else real_types}
    return Resolved(node, nullable, read_only)


def _deref(openapi: Schema, ref: str) -> Schema:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $ref are supported, got {ref!r}")
    node: Any = openapi
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return dict(node)


def lookup(openapi: Schema, schema: Schema, dotted: str) -> Resolved | None:
    """The property at `dotted` ("address.city") under `schema`, or None if there is none."""
    current = resolve(openapi, schema)
    found: Resolved | None = None
    read_only = False
    for part in dotted.split("."):
        prop = current.schema.get("properties", {}).get(part)
        if prop is None:
            return None
        found = resolve(openapi, prop)
        read_only = read_only or found.read_only
        current = found
    if found is None:
        return None
    return Resolved(found.schema, found.nullable, read_only)


def _body_schema(operation: Schema | None, openapi: Schema) -> Schema | None:
    if not operation:
        return None
    body = operation.get("requestBody", {})
    if "$ref" in body:
        body = _deref(openapi, body["$ref"])
    schema = body.get("content", {}).get("application/json", {}).get("schema")
    return dict(schema) if schema else None


def _response_schema(operation: Schema | None) -> Schema | None:
    if not operation:
        return None
    ok = operation.get("responses", {}).get("200", {})
    schema = ok.get("content", {}).get("application/json", {}).get("schema")
    return dict(schema) if schema else None


def _named(openapi: Schema, names: list[str]) -> Schema | None:
    schemas = openapi.get("components", {}).get("schemas", {})
    return next((dict(schemas[n]) for n in names if n in schemas), None)


def resource_schemas(openapi: Schema, resource: str) -> ResourceSchemas:
    """Find a resource's schemas from its paths (`.../customers`, `.../customers/{id}`).

    Falls back to component names FastAPI apps commonly use (`Customer`, `CustomerCreate`,
    `CustomerUpdate`, ...) when the paths do not say.
    """
    plural = re.escape(resource + "s")
    collection = re.compile(rf"^(?:.*/)?{plural}/?$")
    item = re.compile(rf"^(?:.*/)?{plural}/\{{[^/}}]+\}}/?$")
    read = create = update = None
    for path, operations in openapi.get("paths", {}).items():
        if item.match(path):
            read = read or _response_schema(operations.get("get"))
            update = update or _body_schema(
                operations.get("patch") or operations.get("put"), openapi
            )
        elif collection.match(path):
            create = create or _body_schema(operations.get("post"), openapi)
    base = resource[:1].upper() + resource[1:]
    return ResourceSchemas(
        read=read or _named(openapi, [base, f"{base}-Output", f"{base}Out", f"{base}Read"]),
        create=create or _named(openapi, [f"{base}Create", f"{base}In", f"{base}-Input"]),
        update=update or _named(openapi, [f"{base}Update", f"{base}Patch"]),
    )
