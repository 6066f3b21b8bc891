"""Turn a checked mapping file (`spec.MappingSpec`) into the `Flow` objects the core uses.

Python keeps only the generic converters (`streams.mapping.converters`); which one a row
uses and with which limits and tables comes from the file. Everything that spans several
keys is checked here (a limit for each direction the row writes, a table for each
direction it converts, match keys, references, flow order) and reported with the
location of the key in the file, as `Issue(loc, message)`; the loader turns the location
into file:line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from foundation.entities import SALESFORCE_OBJECTS
from foundation.errors import ConfigError
from foundation.kafka import topics as t
from streams.mapping import spec as s
from streams.mapping.converters import (
    Boolean,
    Constant,
    Converter,
    DateTimeValue,
    DateValue,
    EnumMap,
    LinkedId,
    Number,
    Text,
)
from streams.mapping.scope import Scope
from streams.mapping.table import (
    DeleteAction,
    DeletePolicy,
    DeleteRule,
    Direction,
    FieldRow,
    Flow,
    MatchPart,
)

Loc = tuple[int | str, ...]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem at `loc` (a path of keys and indexes into the file)."""

    loc: Loc
    message: str


class _Invalid(Exception):
    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.issue = Issue(loc, message)


def _side(value: T | s.PerSide[T] | None, to_pms: bool) -> T | None:
    if isinstance(value, s.PerSide):
        return value.to_custompms if to_pms else value.to_salesforce
    return value


def _direction(row: s._Row) -> Direction:
    if row.direction is not None:
        return Direction(row.direction)
    one_way = row.type in ("constant", "reference")
    return Direction.SF_TO_PMS if one_way else Direction.BOTH


def _text(row: s.TextRow, to_pms: bool, loc: Loc) -> Converter:
    limit = _side(row.options.max_length, to_pms)
    if limit is None:
        way = "to_custompms" if to_pms else "to_salesforce"
        raise _Invalid(
            (*loc, "options"),
            f"a text row that writes {'Custompms' if to_pms else 'Salesforce'} needs "
            f"`max_length` ({way}): the target's limit",
        )
    return Text(limit, nullable=not _side(row.options.required, to_pms))


def _enum(row: s.EnumRow, to_pms: bool, loc: Loc) -> Converter:
    key = "to_custompms" if to_pms else "to_salesforce"
    table = row.options.to_custompms if to_pms else row.options.to_salesforce
    if not table:
        raise _Invalid(
            (*loc, "options"),
            f"an enum row that writes {'Custompms' if to_pms else 'Salesforce'} needs a value "
            f"table `{key}` (source value: target value)",
        )
    given = row.options.default
    default = None if given is None else (given.to_custompms if to_pms else given.to_salesforce)
    return EnumMap.of(table, nullable=not _side(row.options.required, to_pms), default=default)


def _one_way_converter(row: s._Row, to_pms: bool, loc: Loc) -> Converter:
    """The converter of one direction of a row that converts by type."""
    if isinstance(row, s.TextRow):
        return _text(row, to_pms, loc)
    if isinstance(row, s.EnumRow):
        return _enum(row, to_pms, loc)
    if isinstance(row, s.BooleanRow):
        return Boolean(nullable=not _side(row.options.required, to_pms))
    if isinstance(row, s.NumberRow):
        o = row.options
        return Number(not _side(o.required, to_pms), o.integer, o.minimum, o.maximum)
    if isinstance(row, s.DateRow):
        return DateValue(nullable=not _side(row.options.required, to_pms))
    if isinstance(row, s.DateTimeRow):
        return DateTimeValue(nullable=not _side(row.options.required, to_pms))
    raise AssertionError(f"no converter for {type(row).__name__}")


def _row(row: s._Row, loc: Loc, where: str) -> FieldRow:
    expected = s.CONVERTER_OF_TYPE[row.type]
    converter = getattr(row, "converter", expected)
    if converter != expected:
        raise _Invalid((*loc, "converter"), f"a {row.type} row uses the {expected} converter")
    direction = _direction(row)
    if isinstance(row, s.ConstantRow):
        if row.salesforce is not None or direction is not Direction.SF_TO_PMS:
            raise _Invalid(loc, "a constant row has no `salesforce` field and goes sf_to_pms")
        return FieldRow(
            None,
            row.custompms,
            "constant",
            direction,
            to_pms=Constant(row.options.value),
            note=row.note,
            where=where,
        )
    if isinstance(row, s.ReferenceRow):
        if direction is not Direction.SF_TO_PMS:
            raise _Invalid((*loc, "direction"), "a reference row goes sf_to_pms")
        return FieldRow(
            row.salesforce or "Id",
            row.custompms,
            "reference",
            direction,
            to_pms=LinkedId(row.options.flow),
            note=row.note,
            where=where,
        )
    if row.salesforce is None:
        raise _Invalid(loc, "a row needs `salesforce` (the field's API name)")
    if isinstance(row, s.EnumRow):
        for key, written in (
            ("to_custompms", direction.writes_pms),
            ("to_salesforce", direction.writes_sf),
        ):
            if getattr(row.options, key) and not written:
                raise _Invalid(
                    (*loc, "options", key),
                    f"the row is {direction.value}: it never converts {key}; remove the table "
                    "or change `direction`",
                )
    return FieldRow(
        row.salesforce,
        row.custompms,
        row.type,
        direction,
        to_pms=_one_way_converter(row, True, loc) if direction.writes_pms else None,
        to_sf=_one_way_converter(row, False, loc) if direction.writes_sf else None,
        note=row.note,
        where=where,
    )


def _delete_rule(rule: s.DeleteSpec, loc: Loc) -> DeleteRule:
    action = DeleteAction(rule.action)
    if (action is DeleteAction.DEACTIVATE) != bool(rule.set):
        raise _Invalid(loc, "`set` is needed exactly for action deactivate (what to write)")
    return DeleteRule(action, tuple(rule.set.items()))


def _match(
    spec: s.MatchSpec | None, rows: Mapping[str, FieldRow], loc: Loc
) -> tuple[tuple[MatchPart, ...], tuple[str, ...]]:
    if spec is None:
        return (), ()
    parts: list[MatchPart] = []
    for index, item in enumerate(spec.on):
        here = (*loc, "on", index)
        if isinstance(item, s.FieldPair):
            if spec.when_creating:
                raise _Invalid(here, "when_creating matches on rows only; name a row key")
            parts.append(MatchPart(item.salesforce, item.custompms))
            continue
        row = rows.get(item)
        if row is None or row.sf_field is None or row.to_pms is None:
            raise _Invalid(
                here,
                f"{item!r} is not the Custompms property of a row that reads a Salesforce "
                "field; name such a row, or give {salesforce: Field, custompms: path}",
            )
        parts.append(MatchPart(row.sf_field, item, item))
    keys = tuple(p.pms_field for p in parts) if spec.when_creating else ()
    return tuple(parts), keys


def _scope(spec: s.ScopeSpec, where: str) -> Scope:
    pms = tuple(
        (path, tuple(allowed) if isinstance(allowed, list) else (allowed,))
        for path, allowed in spec.custompms.items()
    )
    return Scope(spec.salesforce, pms, spec.when_leaving, where)


def _flow(spec: s.FlowSpec, loc: Loc, where: Callable[[Loc], str]) -> Flow:
    rows: list[FieldRow] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(spec.rows):
        here = (*loc, "rows", index)
        row = _row(raw, here, where(here))
        if row.key in seen:
            raise _Invalid(
                (*here, "custompms"),
                f"two rows write Custompms {row.key} (rows {seen[row.key] + 1} and {index + 1})",
            )
        seen[row.key] = index
        rows.append(row)
    by_key = {row.key: row for row in rows}
    match, match_on = _match(spec.match, by_key, (*loc, "match"))
    delete = DeletePolicy(
        sf_deleted=_delete_rule(
            spec.delete.salesforce_deleted, (*loc, "delete", "salesforce_deleted")
        ),
        pms_deleted=_delete_rule(
            spec.delete.custompms_deleted, (*loc, "delete", "custompms_deleted")
        ),
    )
    requires = tuple(
        (row.key, row.to_pms.via_flow) for row in rows if isinstance(row.to_pms, LinkedId)
    )
    try:
        return Flow(
            name=spec.name,
            sf_object=spec.salesforce_object,
            pms_resource=spec.custompms_resource,
            pms_label=spec.custompms_label,
            rows=tuple(rows),
            create_in_pms=spec.create.in_custompms,
            create_in_sf=spec.create.in_salesforce,
            delete_policy=delete,
            match_on=match_on,
            requires=requires,
            pms_default=spec.default_for_resource,
            notes=tuple(spec.notes),
            match=match,
            scope=_scope(spec.scope, where((*loc, "scope", "salesforce"))),
            existing_records=spec.create.existing_records,
            where=where(loc),
        )
    except ConfigError as exc:  # the table's own invariants, as a backstop
        raise _Invalid(loc, exc.message) from exc


def build_flows(
    mapping: s.MappingSpec, where: Callable[[Loc], str]
) -> tuple[dict[str, Flow], list[Issue]]:
    """Flows by name, in file order, and every issue found (a flow with one is left out)."""
    flows: dict[str, Flow] = {}
    issues: list[Issue] = []
    defaults: dict[str, str] = {}
    for index, flow_spec in enumerate(mapping.flows):
        loc: Loc = ("flows", index)
        try:
            flow = _flow(flow_spec, loc, where)
        except _Invalid as exc:
            issues.append(exc.issue)
            continue
        if flow.name in flows:
            issues.append(Issue((*loc, "name"), f"two flows are named {flow.name}"))
            continue
        unknown = _unknown_entities(flow, loc)
        if unknown:
            issues += unknown
            continue
        for row_index, row in enumerate(flow.rows):
            if isinstance(row.to_pms, LinkedId) and row.to_pms.via_flow not in flows:
                issues.append(
                    Issue(
                        (*loc, "rows", row_index, "options", "flow"),
                        f"reference to flow {row.to_pms.via_flow!r}, which must be defined "
                        "before this flow",
                    )
                )
        if flow.pms_default:
            if flow.pms_resource in defaults:
                issues.append(
                    Issue(
                        (*loc, "default_for_resource"),
                        f"two default flows for {flow.pms_resource} ({defaults[flow.pms_resource]}"
                        f" and {flow.name}); keep one",
                    )
                )
            defaults[flow.pms_resource] = flow.name
        flows[flow.name] = flow
    return flows, issues


def _unknown_entities(flow: Flow, loc: Loc) -> list[Issue]:
    """A flow can only use the sObjects the capture reads and the resources it follows."""
    issues = []
    if flow.sf_object not in SALESFORCE_OBJECTS:
        issues.append(
            Issue(
                (*loc, "salesforce_object"),
                f"sfpms captures the Salesforce objects {', '.join(SALESFORCE_OBJECTS)};"
                f" {flow.sf_object!r} is not one of them",
            )
        )
    if flow.pms_resource not in t.CUSTOMPMS_RESOURCES:
        issues.append(
            Issue(
                (*loc, "custompms_resource"),
                f"sfpms follows the Custompms resources {', '.join(t.CUSTOMPMS_RESOURCES)}; "
                f"{flow.pms_resource!r} is not one of them",
            )
        )
    return issues
