"""Run a parsed query against records: bind fields, type-check literals, filter, sort, project.

Semantics follow SOQL: text comparisons (=, <, LIKE, ORDER BY) ignore case, ids compare
exactly; `!=` and NOT IN match nulls; nulls sort first unless NULLS LAST.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from emulators.salesforce import ids
from emulators.salesforce.schema import ID_TYPES, TEXT_TYPES, FieldDef, ObjectDef, find_object
from emulators.salesforce.soql.ast import (
    BoolOp,
    Comparison,
    DateRange,
    FieldPath,
    InList,
    Like,
    Literal,
    Not,
    Query,
)
from emulators.salesforce.soql.errors import SoqlError, pointed
from emulators.salesforce.validation import to_json

Record = Mapping[str, Any]
#: A live record by id: (sobject name, fields), or None.
Lookup = Callable[[str], "tuple[str, Record] | None"]
#: The REST URL of a record: (sobject name, id) -> "/services/data/v60.0/sobjects/T/ID".
UrlFor = Callable[[str, str], str]
#: The emulator instance's object definitions by name (its catalog), or None.
FindObject = Callable[[str], "ObjectDef | None"]


@dataclass(frozen=True, slots=True)
class QueryResult:
    total_size: int
    records: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class _Bound:
    """A field reference resolved against the schema."""

    path: FieldPath
    fdef: FieldDef
    relationship: FieldDef | None  # the reference field for Owner.Name, else None
    target: ObjectDef | None

    def get(self, record: Record, lookup: Lookup) -> Any:
        if self.relationship is None:
            return record.get(self.fdef.name)
        related = self._related(record, lookup)
        return None if related is None else related.get(self.fdef.name)

    def _related(self, record: Record, lookup: Lookup) -> Record | None:
        assert self.relationship is not None
        ref = record.get(self.relationship.name)
        found = lookup(ref) if ref else None
        return None if found is None else found[1]


def _invalid_field(query: Query, path: FieldPath, obj: ObjectDef) -> SoqlError:
    return SoqlError(
        "INVALID_FIELD",
        pointed(
            query.text,
            path.pos,
            f"No such column '{path.text}' on entity '{obj.name}'. If you are attempting to use "
            "a custom field, be sure to append the '__c' after the custom field name. Please "
            "reference your WSDL or the describe call for the appropriate names.",
        ),
    )


def _bind(query: Query, obj: ObjectDef, path: FieldPath, find: FindObject = find_object) -> _Bound:
    parts = list(path.parts)
    if len(parts) > 1 and parts[0].casefold() == obj.name.casefold():
        parts = parts[1:]  # "Task.Subject" names the queried object itself
    if len(parts) == 1:
        fdef = obj.field(parts[0])
        if fdef is None:
            raise _invalid_field(query, path, obj)
        return _Bound(path, fdef, None, None)
    if len(parts) == 2:
        reference = obj.relationship(parts[0])
        modeled = [find(t) for t in reference.reference_to] if reference else []
        target = next((t for t in modeled if t is not None), None)
        if reference is None or target is None:
            raise SoqlError(
                "INVALID_FIELD",
                pointed(
                    query.text,
                    path.pos,
                    f"Didn't understand relationship '{parts[0]}' in field path. If you are "
                    "attempting to use a custom relationship, be sure to append the '__r' after "
                    "the custom relationship name. Please reference your WSDL or the describe "
                    "call for the appropriate names.",
                ),
            )
        fdef = target.field(parts[1])
        if fdef is None:
            raise _invalid_field(query, path, target)
        return _Bound(path, fdef, reference, target)
    raise _invalid_field(query, path, obj)


# -- literals -------------------------------------------------------------------------------


def _filter_error(query: Query, literal: Literal, fdef: FieldDef, wanted: str) -> SoqlError:
    quoted = " and should not be enclosed in quotes" if literal.kind == "string" else ""
    return SoqlError(
        "INVALID_FIELD",
        pointed(
            query.text,
            literal.pos,
            f"value of filter criterion for field '{fdef.name}' must be of type {wanted}{quoted}",
        ),
    )


def _coerce(query: Query, fdef: FieldDef, literal: Literal) -> Any:
    """The literal as a value comparable with the field's values, or a SOQL error."""
    kind = literal.kind
    if kind == "null":
        return None
    ftype = fdef.type
    if ftype in ID_TYPES:
        if kind != "string":
            raise _filter_error(query, literal, fdef, "id")
        text = str(literal.value)
        if text == "":
            return None
        try:
            return ids.normalize(text)
        except ids.MalformedId as exc:
            raise SoqlError(
                "INVALID_QUERY_FILTER_OPERATOR",
                pointed(query.text, literal.pos, f"invalid ID field: {text}"),
            ) from exc
    if ftype in TEXT_TYPES:
        if kind != "string":
            raise _filter_error(query, literal, fdef, "string")
        return str(literal.value).upper()
    if ftype == "boolean":
        if kind != "boolean":
            raise _filter_error(query, literal, fdef, "boolean")
        return literal.value
    if ftype in ("int", "double"):
        if kind != "number":
            raise _filter_error(query, literal, fdef, "number")
        return literal.value
    if ftype == "date":
        if kind not in ("date", "range"):
            raise _filter_error(query, literal, fdef, "date")
        return literal.value
    if ftype == "datetime":
        if kind not in ("datetime", "range"):
            raise _filter_error(query, literal, fdef, "dateTime")
        return literal.value
    raise _filter_error(query, literal, fdef, ftype)


def _comparable(fdef: FieldDef, value: Any) -> Any:
    """A stored value in the form literals are coerced to."""
    if value is None:
        return None
    if fdef.type in TEXT_TYPES and fdef.type not in ID_TYPES:
        return str(value).upper()
    return value


def _compare(value: Any, op: str, target: Any) -> bool:
    if target is None:
        if op == "=":
            return value is None
        if op == "!=":
            return value is not None
        return False
    if isinstance(target, DateRange):
        if value is None:
            return op == "!="
        day = value.astimezone(UTC).date() if isinstance(value, datetime) else value
        inside = target.start <= day < target.end
        return {
            "=": inside,
            "!=": not inside,
            "<": day < target.start,
            "<=": day < target.end,
            ">": day >= target.end,
            ">=": day >= target.start,
        }[op]
    if value is None:
        return op == "!="
    if op == "=":
        return bool(value == target)
    if op == "!=":
        return bool(value != target)
    if op == "<":
        return bool(value < target)
    if op == "<=":
        return bool(value <= target)
    if op == ">":
        return bool(value > target)
    return bool(value >= target)


def _like_regex(raw: str) -> re.Pattern[str]:
    parts: list[str] = []
    pos = 0
    while pos < len(raw):
        char = raw[pos]
        if char == "\\" and pos + 1 < len(raw):
            parts.append(re.escape(raw[pos + 1]))
            pos += 2
            continue
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        pos += 1
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


# -- conditions -----------------------------------------------------------------------------

Predicate = Callable[[Record], bool]


def _compile(
    query: Query, obj: ObjectDef, expr: Any, lookup: Lookup, find: FindObject = find_object
) -> Predicate:
    if isinstance(expr, BoolOp):
        parts = [_compile(query, obj, item, lookup, find) for item in expr.items]
        if expr.op == "AND":
            return lambda r: all(p(r) for p in parts)
        return lambda r: any(p(r) for p in parts)
    if isinstance(expr, Not):
        inner = _compile(query, obj, expr.item, lookup, find)
        return lambda r: not inner(r)
    bound = _bind(query, obj, expr.field, find)
    fdef = bound.fdef

    def value_of(record: Record) -> Any:
        return _comparable(fdef, bound.get(record, lookup))

    if isinstance(expr, Comparison):
        target = _coerce(query, fdef, expr.value)
        if target is None and expr.op not in ("=", "!="):
            raise SoqlError(
                "MALFORMED_QUERY",
                pointed(query.text, expr.value.pos, "invalid operator for a null value"),
            )
        op = expr.op
        return lambda r: _compare(value_of(r), op, target)
    if isinstance(expr, InList):
        targets = [_coerce(query, fdef, v) for v in expr.values]
        if expr.negate:
            return lambda r: all(not _compare(value_of(r), "=", t) for t in targets)
        return lambda r: any(_compare(value_of(r), "=", t) for t in targets)
    if isinstance(expr, Like):
        if fdef.type not in TEXT_TYPES or fdef.type in ID_TYPES:
            raise SoqlError(
                "INVALID_QUERY_FILTER_OPERATOR",
                pointed(
                    query.text,
                    expr.field.pos,
                    f"invalid operator on {fdef.type} field: LIKE on {fdef.name}",
                ),
            )
        regex = _like_regex(expr.pattern.raw)
        return lambda r: (v := bound.get(r, lookup)) is not None and bool(regex.fullmatch(v))
    raise TypeError(f"unknown condition {expr!r}")


# -- execution ------------------------------------------------------------------------------


def _sort(
    rows: list[Record], keys: Sequence[tuple[_Bound, bool, bool]], lookup: Lookup
) -> list[Record]:
    for bound, descending, nulls_first in reversed(keys):

        def key(record: Record, bound: _Bound = bound) -> Any:
            return _comparable(bound.fdef, bound.get(record, lookup))

        present = [r for r in rows if key(r) is not None]
        missing = [r for r in rows if key(r) is None]
        present.sort(key=key, reverse=descending)
        rows = missing + present if nulls_first else present + missing
    return rows


def _project(
    obj: ObjectDef,
    record: Record,
    fields: Sequence[_Bound],
    lookup: Lookup,
    url_for: UrlFor,
) -> dict[str, Any]:
    out: dict[str, Any] = {"attributes": {"type": obj.name, "url": url_for(obj.name, record["Id"])}}
    for bound in fields:
        if bound.relationship is None:
            out[bound.fdef.name] = to_json(bound.fdef, record.get(bound.fdef.name))
            continue
        assert bound.target is not None and bound.relationship.relationship_name is not None
        name = bound.relationship.relationship_name
        ref = record.get(bound.relationship.name)
        found = lookup(ref) if ref else None
        if found is None:
            out[name] = None
            continue
        nested = out.get(name)
        if nested is None:
            nested = {
                "attributes": {
                    "type": bound.target.name,
                    "url": url_for(bound.target.name, str(ref)),
                }
            }
            out[name] = nested
        nested[bound.fdef.name] = to_json(bound.fdef, found[1].get(bound.fdef.name))
    return out


def execute(
    query: Query,
    records_of: Callable[[ObjectDef], Sequence[Record]],
    lookup: Lookup,
    url_for: UrlFor,
    find: FindObject = find_object,
) -> QueryResult:
    """Run `query`; `records_of(obj)` supplies the candidate records (live or all).

    `find` resolves object names (the emulator instance's catalog, with its custom fields).
    """
    obj = find(query.sobject)
    if obj is None:
        raise SoqlError(
            "INVALID_TYPE",
            pointed(
                query.text,
                query.sobject_pos,
                f"sObject type '{query.sobject}' is not supported. If you are attempting to use "
                "a custom object, be sure to append the '__c' after the entity name. Please "
                "reference your WSDL or the describe call for the appropriate names.",
            ),
        )
    selected: list[_Bound] = []
    seen: set[tuple[str, ...]] = set()
    for path in query.fields:
        bound = _bind(query, obj, path, find)
        key = (bound.relationship.name if bound.relationship else "", bound.fdef.name)
        if key in seen:
            raise SoqlError(
                "DUPLICATE_FIELD",
                pointed(query.text, path.pos, f"duplicate field selected: {path.text}"),
            )
        seen.add(key)
        selected.append(bound)
    predicate = _compile(query, obj, query.where, lookup, find) if query.where is not None else None
    order = [
        (_bind(query, obj, item.field, find), item.descending, item.nulls_first)
        for item in query.order
    ]
    rows = [r for r in records_of(obj) if predicate is None or predicate(r)]
    if order:
        rows = _sort(rows, order, lookup)
    if query.offset:
        rows = rows[query.offset :]
    if query.limit is not None:
        rows = rows[: query.limit]
    if query.count:
        return QueryResult(len(rows), [])
    return QueryResult(len(rows), [_project(obj, r, selected, lookup, url_for) for r in rows])


def select_columns(query: Query, find: FindObject = find_object) -> list[tuple[str, FieldDef]]:
    """The selected fields as result columns: (`Subject` | `Owner.Name`, field definition).

    Names use the schema's spelling (not the query's), as Bulk API results do.
    """
    obj = find(query.sobject)
    if obj is None:
        return []
    columns: list[tuple[str, FieldDef]] = []
    for path in query.fields:
        bound = _bind(query, obj, path, find)
        if bound.relationship is None:
            columns.append((bound.fdef.name, bound.fdef))
        else:
            name = f"{bound.relationship.relationship_name}.{bound.fdef.name}"
            columns.append((name, bound.fdef))
    return columns
