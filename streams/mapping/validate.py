"""Check flows against the live schemas: Salesforce describe and Custompms OpenAPI.

Run by `sfpms mapping validate` and at start-up. Each problem is a `Finding` naming the
file:line of the row, the flow and the field, and what to do:

- errors: a row names a missing field, writes a read-only one, disagrees on a type, writes
  a value the target refuses, or lets an empty value into a required field. The process
  stops with a `ConfigError` listing every one, instead of dead-lettering records one by one.
- warnings (drift): a picklist / enum value one side has that the row's table does not
  list, or a table entry for a value the source no longer has. The sync starts; a record
  carrying such a value follows the row's policy (its `default`, else that field goes to
  the dead-letter topic and the rest of the record syncs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from foundation.errors import ConfigError
from streams.mapping.converters import Constant, Converter, EnumMap, Text
from streams.mapping.flows import FLOWS
from streams.mapping.openapi import Resolved, ResourceSchemas, lookup, resource_schemas
from streams.mapping.table import FieldRow, Flow

#: Salesforce field types a row of each pms_type may write / may only read.
_SF_WRITE_TYPES: Mapping[str, frozenset[str]] = {
    "string": frozenset({"string", "textarea", "combobox", "phone", "email", "url"}),
    "boolean": frozenset({"boolean"}),
    "enum": frozenset({"picklist"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"datetime"}),
    "number": frozenset({"double", "int", "long", "currency", "percent"}),
    "reference": frozenset({"id", "reference"}),
}
_SF_READ_ONLY_EXTRA: Mapping[str, frozenset[str]] = {
    "string": frozenset({"picklist", "reference", "id"}),
}
_STRING_FORMATS_NOT_TEXT = frozenset({"date", "date-time"})


def _sobject(flow: Flow, sf_describe: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Accept one sObject describe or a mapping of sObject name -> describe."""
    if "fields" in sf_describe:
        return sf_describe if sf_describe.get("name", flow.sf_object) == flow.sf_object else None
    found = sf_describe.get(flow.sf_object)
    return found if isinstance(found, Mapping) else None


def _pms_type_ok(row: FieldRow, prop: Resolved) -> bool:
    schema = prop.schema
    kind, fmt, enum = schema.get("type"), schema.get("format"), schema.get("enum")
    if row.pms_type == "string":
        return kind == "string" and not enum and fmt not in _STRING_FORMATS_NOT_TEXT
    if row.pms_type == "boolean":
        return kind == "boolean"
    if row.pms_type == "enum":
        return kind == "string" and bool(enum)
    if row.pms_type == "date":
        return kind == "string" and fmt == "date"
    if row.pms_type == "datetime":
        return kind == "string" and fmt == "date-time"
    if row.pms_type == "number":
        return kind in ("number", "integer")
    if row.pms_type == "reference":
        return kind in ("string", "integer")
    if isinstance(row.to_pms, Constant):  # constant
        value = row.to_pms.value
        expected = {bool: "boolean", int: "integer", str: "string"}[type(value)]
        return kind == expected and (not enum or value in enum)
    return False


#: Marks a drift problem (a warning, not an error) until `check_flow` sorts them; the
#: letter says which side's values drift (s: Salesforce, p: Custompms).
_DRIFT = "\x00drift"
_DRIFT_SF, _DRIFT_PMS = _DRIFT + "s\x00", _DRIFT + "p\x00"


def _enum_problems(
    values: Iterable[str], allowed: Iterable[str], where: str, role: str
) -> list[str]:
    """Table values the other side does not list. A source value it lacks is drift (the
    entry is never used); a target value it lacks would be refused (an error)."""
    allowed_set = set(allowed)
    mark = (_DRIFT_SF if where.startswith("Salesforce") else _DRIFT_PMS) if role == "source" else ""
    return [
        f"{mark}{role} value {v!r} is not in the {where} list"
        for v in values
        if v not in allowed_set
    ]


def _unmapped(values: Iterable[str], conv: EnumMap, where: str, kind: str, other: str) -> list[str]:
    """Values the source offers that the table does not list: drift, handled by policy."""
    policy = (
        f"they become {conv.default!r} (the row's default)"
        if conv.default is not None
        else "that field of such a record goes to the dead-letter topic, the rest syncs"
    )
    mark = _DRIFT_SF if kind == "picklist" else _DRIFT_PMS
    return [
        f"{mark}{where} {kind} value {v!r} has no {other} mapping; {policy}. Add it to the "
        "row's table"
        for v in values
        if v not in conv.sources
    ]


def _limit_problem(converter: Converter | None, limit: Any, where: str) -> list[str]:
    if isinstance(converter, Text) and isinstance(limit, int) and 0 < limit < converter.max_length:
        return [f"converter allows {converter.max_length} characters but {where} holds {limit}"]
    return []


def _empty_problem(converter: Converter | None, target_nullable: bool, where: str) -> list[str]:
    if converter is not None and getattr(converter, "nullable", False) and not target_nullable:
        return [f"{where} requires a value but the converter lets an empty value through"]
    return []


def _sf_problems(flow: Flow, row: FieldRow, sobject: Mapping[str, Any]) -> list[str]:
    fields = {f["name"]: f for f in sobject.get("fields", [])}
    where = f"Salesforce {flow.sf_object}.{row.sf_field}"
    spec = fields.get(row.sf_field or "")
    if spec is None:
        return [f"{where} does not exist"]
    problems = []
    sf_type = spec.get("type")
    allowed = _SF_WRITE_TYPES.get(row.pms_type, frozenset())
    if not row.writes_sf:
        allowed = allowed | _SF_READ_ONLY_EXTRA.get(row.pms_type, frozenset())
    if sf_type not in allowed:
        problems.append(f"{where} is of type {sf_type}, which a {row.pms_type} row cannot use")
    if row.writes_sf:
        if not spec.get("updateable"):
            problems.append(f"{where} is not updateable; make the row SF_TO_PMS")
        if flow.create_in_sf and not spec.get("createable"):
            problems.append(f"{where} is not createable but the flow creates in Salesforce")
        problems += _limit_problem(row.to_sf, spec.get("length"), where)
        problems += _empty_problem(row.to_sf, bool(spec.get("nillable")), where)
    if row.pms_type == "enum":
        picklist = [p["value"] for p in spec.get("picklistValues", []) if p.get("active", True)]
        if isinstance(row.to_pms, EnumMap):
            problems += _enum_problems(row.to_pms.sources, picklist, f"{where} picklist", "source")
            problems += _unmapped(picklist, row.to_pms, where, "picklist", "Custompms")
        if isinstance(row.to_sf, EnumMap):
            problems += _enum_problems(row.to_sf.targets, picklist, f"{where} picklist", "target")
    return problems


def _pms_problems(flow: Flow, row: FieldRow, schemas: ResourceSchemas, openapi: Any) -> list[str]:
    where = f"Custompms {flow.pms_resource}.{row.pms_field}"
    assert schemas.read is not None
    prop = lookup(openapi, schemas.read, row.pms_field)
    if prop is None:
        return [f"{where} does not exist"]
    problems = []
    if not _pms_type_ok(row, prop):
        shown = prop.schema.get("format") or prop.schema.get("type")
        problems.append(f"{where} is {shown}, which a {row.pms_type} row cannot use")
    if row.writes_pms:
        problems += _pms_write_problems(flow, row, schemas, openapi, prop, where)
    enum = prop.schema.get("enum") or []
    if row.pms_type == "enum":
        if isinstance(row.to_pms, EnumMap):
            problems += _enum_problems(row.to_pms.targets, enum, f"{where} enum", "target")
        if isinstance(row.to_sf, EnumMap):
            problems += _enum_problems(row.to_sf.sources, enum, f"{where} enum", "source")
            problems += _unmapped(enum, row.to_sf, where, "enum", "Salesforce")
    return problems


def _pms_write_problems(
    flow: Flow, row: FieldRow, schemas: ResourceSchemas, openapi: Any, prop: Resolved, where: str
) -> list[str]:
    problems = []
    if prop.read_only:
        problems.append(f"{where} is read-only; make the row PMS_TO_SF")
    on_update = lookup(openapi, schemas.update, row.pms_field) if schemas.update else None
    on_create = lookup(openapi, schemas.create, row.pms_field) if schemas.create else None
    # Constants and references are set when the record is created and never change.
    if schemas.update and on_update is None and not (row.is_constant or row.is_reference):
        problems.append(f"{where} cannot be updated (not in the update body)")
    if flow.create_in_pms and schemas.create and on_create is None:
        problems.append(f"{where} cannot be set on create but the flow creates in Custompms")
    # Input models carry the limits; the read model often has none.
    limits = [
        found.schema["maxLength"]
        for found in (prop, on_update, on_create)
        if found is not None and isinstance(found.schema.get("maxLength"), int)
    ]
    problems += _limit_problem(row.to_pms, min(limits, default=None), where)
    problems += _empty_problem(row.to_pms, prop.nullable, where)
    return problems


def _delete_problems(
    flow: Flow, sobject: Mapping[str, Any] | None, schemas: ResourceSchemas, openapi: Any
) -> list[str]:
    problems = []
    if sobject is not None:
        fields = {f["name"]: f for f in sobject.get("fields", [])}
        for name in flow.delete_policy.pms_deleted.patch:
            if not fields.get(name, {}).get("updateable"):
                problems.append(
                    f"delete patch writes Salesforce {flow.sf_object}.{name}, "
                    "which is missing or not updateable"
                )
    if schemas.read is not None:
        for path, value in flow.delete_policy.sf_deleted.patch.items():
            prop = lookup(openapi, schemas.read, path)
            if prop is None or prop.read_only:
                problems.append(
                    f"delete patch writes Custompms {flow.pms_resource}.{path}, "
                    "which is missing or read-only"
                )
            elif prop.schema.get("enum") and value not in prop.schema["enum"]:
                problems.append(
                    f"delete patch value {value!r} is not in the "
                    f"Custompms {flow.pms_resource}.{path} enum"
                )
    return problems


Level = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem of a flow: `where` is the file:line of its row (or flow); `field` the
    row's label; `drifting` the field whose values drift (warnings only)."""

    level: Level
    flow: str
    field: str | None
    where: str
    message: str
    drifting: str | None = None

    def text(self) -> str:
        """`config/mapping.yaml:42: task_project: row Status <-> status: ...`."""
        head = f"{self.where}: " if self.where else ""
        return f"{head}{self.flow}: {self.field + ': ' if self.field else ''}{self.message}"


def _finding(flow: Flow, row: FieldRow | None, problem: str) -> Finding:
    where = (row.where if row is not None else "") or flow.where
    label = f"row {row.label}" if row else None
    for mark in (_DRIFT_SF, _DRIFT_PMS):
        if problem.startswith(mark):
            drifting = None
            if row is not None:
                drifting = row.sf_field if mark == _DRIFT_SF else row.pms_field
            message = problem.removeprefix(mark)
            return Finding("warning", flow.name, label, where, message, drifting)
    return Finding("error", flow.name, label, where, problem)


def check_flow(
    flow: Flow, sf_describe: Mapping[str, Any], pms_openapi: Mapping[str, Any]
) -> list[Finding]:
    """Every finding of `flow` against the schemas; [] if it fits.

    `sf_describe` is the describe of `flow.sf_object` or a mapping sObject name -> describe.
    """
    findings: list[Finding] = []
    sobject = _sobject(flow, sf_describe)
    schemas = resource_schemas(pms_openapi, flow.pms_resource)
    if sobject is None:
        findings.append(_finding(flow, None, f"no Salesforce describe for {flow.sf_object}"))
    if schemas.read is None:
        findings.append(
            _finding(flow, None, f"no Custompms schema for resource {flow.pms_resource}")
        )
    for row in flow.rows:
        found = []
        if sobject is not None and row.sf_field is not None:
            found += _sf_problems(flow, row, sobject)
        if schemas.read is not None:
            found += _pms_problems(flow, row, schemas, pms_openapi)
        findings += [_finding(flow, row, p) for p in found]
    findings += [
        _finding(flow, None, p) for p in _delete_problems(flow, sobject, schemas, pms_openapi)
    ]
    findings += [
        _finding(flow, None, p) for p in _criteria_problems(flow, sobject, schemas, pms_openapi)
    ]
    return findings


def _criteria_problems(
    flow: Flow, sobject: Mapping[str, Any] | None, schemas: ResourceSchemas, openapi: Any
) -> list[str]:
    """Match criteria and scope filters must name fields that exist."""
    problems = []
    fields = {f["name"] for f in sobject.get("fields", [])} if sobject is not None else None
    wanted: list[tuple[str | None, str, str]] = [
        (p.sf_field, p.pms_field, "match criterion") for p in flow.match
    ]
    wanted += [(None, path, "scope filter") for path, _ in flow.scope.pms_filter]
    for sf_field, pms_path, what in wanted:
        if fields is not None and sf_field is not None and sf_field not in fields:
            problems.append(
                f"{what} names Salesforce {flow.sf_object}.{sf_field}, which does not exist"
            )
        if (
            schemas.read is not None
            and pms_path != "id"
            and lookup(openapi, schemas.read, pms_path) is None
        ):
            problems.append(
                f"{what} names Custompms {flow.pms_resource}.{pms_path}, which does not exist"
            )
    return problems


def validate_flow(
    flow: Flow, sf_describe: Mapping[str, Any], pms_openapi: Mapping[str, Any]
) -> list[str]:
    """Every problem of `flow` (errors and warnings), as `flow: row label: message`."""
    return [
        f"{f.flow}: {f.field + ': ' if f.field else ''}{f.message}"
        for f in check_flow(flow, sf_describe, pms_openapi)
    ]


def validate_all(
    sf_describes: Mapping[str, Any],
    pms_openapi: Mapping[str, Any],
    flows: Iterable[Flow] | None = None,
) -> list[Finding]:
    """Check every flow (default: the shipped ones). Raise one ConfigError listing every
    error; return the warnings (drift) for the caller to report."""
    if flows is None:
        flows = FLOWS.values()
    findings = [f for flow in flows for f in check_flow(flow, sf_describes, pms_openapi)]
    errors = [f for f in findings if f.level == "error"]
    if errors:
        raise ConfigError(
            "the mapping does not fit the live schemas; fix these rows of the mapping file "
            "(or the schema):\n  - " + "\n  - ".join(f.text() for f in errors)
        )
    return [f for f in findings if f.level == "warning"]
