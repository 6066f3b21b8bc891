"""Apply any flow table to a record: one generic function per direction.

Salesforce records are flat dicts (`{"Id": ..., "Subject": ...}`); Custompms records are
nested (`{"address": {"city": ...}}`) and addressed by dotted paths. The results are flat
`{target field: value}` dicts; `nest` turns the Custompms one into a request body.

Absent and empty differ: a field missing from the incoming record (a partial change) is left
out of the result, while a present `None` maps to `None` (clear the field), unless the target
requires a value.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from foundation.errors import ConfigError
from streams.mapping.converters import Converter
from streams.mapping.errors import ConversionError, UnknownValue
from streams.mapping.table import FieldRow, Flow

_MISSING: Any = object()


def _lookup(record: Mapping[str, Any], dotted: str) -> Any:
    node: Any = record
    for part in dotted.split("."):
        if node is None:
            # A parent that is present but empty ("address": None) empties its children.
            return None
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def get_path(record: Mapping[str, Any], dotted: str, default: Any = None) -> Any:
    """The value at `dotted` ("address.city") in a nested record, or `default` if absent."""
    value = _lookup(record, dotted)
    return default if value is _MISSING else value


def set_path(record: MutableMapping[str, Any], dotted: str, value: Any) -> None:
    """Set `dotted` in a nested record, creating (or replacing a `None`) parent dicts."""
    *parents, leaf = dotted.split(".")
    node = record
    for part in parents:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, MutableMapping):
            raise ValueError(f"cannot set {dotted!r}: {part!r} holds {type(child).__name__}")
        node = child
    node[leaf] = value


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """`{"address.city": "Oslo"}` -> `{"address": {"city": "Oslo"}}`."""
    out: dict[str, Any] = {}
    for dotted, value in flat.items():
        set_path(out, dotted, value)
    return out


def row_value_sf(row: FieldRow, sf_record: Mapping[str, Any]) -> Any:
    """The raw Salesforce value a row reads (None for constants and absent fields)."""
    return sf_record.get(row.sf_field) if row.sf_field else None


def row_value_pms(row: FieldRow, pms_record: Mapping[str, Any]) -> Any:
    """The raw Custompms value at the row's path (None if absent)."""
    return get_path(pms_record, row.pms_field)


def _convert(
    flow: Flow, row: FieldRow, value: Any, record_id: Any, converter: Converter | None, to_sf: bool
) -> Any:
    sf_name = f"Salesforce {flow.sf_object}.{row.sf_field or '(constant)'}"
    pms_name = f"Custompms {flow.pms_resource}.{row.pms_field}"
    source, target = (pms_name, sf_name) if to_sf else (sf_name, pms_name)
    if converter is None:
        raise ConfigError(f"row {row.label} does not write {target}", flow=flow.name)
    try:
        return converter(value)
    except UnknownValue as exc:
        table = "to_salesforce" if to_sf else "to_custompms"
        raise UnknownValue(
            f"cannot map {source} to {target}: {exc.message}; add it to `{table}` of the "
            f"row at {_where(flow, row)} (or give the row a `default`); only this field is "
            "left out",
            exc.value,
            flow=flow.name,
            record=str(record_id),
            field=row.pms_field if to_sf else (row.sf_field or row.pms_field),
            sf_field=row.sf_field,
            pms_field=row.pms_field,
        ) from exc
    except ConversionError as exc:
        system = "Custompms" if to_sf else "Salesforce"
        raise ConversionError(
            f"cannot map {source} to {target}: {exc.message}; correct the value in {system} "
            f"or the row at {_where(flow, row)}",
            flow=flow.name,
            record=str(record_id),
            field=row.pms_field if to_sf else (row.sf_field or row.pms_field),
            sf_field=row.sf_field,
            pms_field=row.pms_field,
        ) from exc


def _where(flow: Flow, row: FieldRow) -> str:
    return row.where or f"flow {flow.name} of the mapping file"


def convert_to_pms(flow: Flow, row: FieldRow, value: Any, record_id: Any) -> Any:
    """Convert one Salesforce value with the row's `to_pms`; errors name flow, record, fields."""
    return _convert(flow, row, value, record_id, row.to_pms, to_sf=False)


def convert_to_sf(flow: Flow, row: FieldRow, value: Any, record_id: Any) -> Any:
    """Convert one Custompms value with the row's `to_sf`; errors name flow, record, fields."""
    return _convert(flow, row, value, record_id, row.to_sf, to_sf=True)


def _keep_current(back: Converter | None, current: Any, incoming: Any) -> bool:
    """True when the target's current value already stands for the incoming one.

    This is what keeps lossy rows from flattening data: a Project "cancelled" shows as
    "Deferred" in Salesforce; when that Task is edited and "Deferred" comes back, "cancelled"
    must stay rather than become "on_hold".
    """
    if back is None or current is _MISSING:
        return False
    try:
        return bool(back(current) == incoming)
    except ConversionError:
        return False


def sf_to_pms(
    flow: Flow,
    sf_record: Mapping[str, Any],
    *,
    record_id: Any,
    current: Mapping[str, Any] | None = None,
    include_constants: bool = True,
    unknown: list[UnknownValue] | None = None,
) -> dict[str, Any]:
    """{Custompms dotted path: value} for every row that writes Custompms.

    Constants are included unless `include_constants=False` (e.g. for an update that should
    not re-stamp `kind`); references are not (the engine resolves them through `requires`).
    `current` is the linked Custompms record if known: where its value already maps back to
    the incoming Salesforce value, that value is kept (see `_keep_current`). With `unknown`,
    a value a row's table does not know leaves that field out and is appended there
    (drift: the rest of the record still maps); without it, it raises.
    """
    out: dict[str, Any] = {}
    for row in flow.rows_to_pms:
        if row.is_constant:
            if include_constants:
                out[row.pms_field] = convert_to_pms(flow, row, None, record_id)
            continue
        raw = sf_record.get(row.sf_field, _MISSING) if row.sf_field else _MISSING
        if raw is _MISSING:
            continue
        try:
            value = convert_to_pms(flow, row, raw, record_id)
        except UnknownValue as exc:
            if unknown is None:
                raise
            unknown.append(exc)
            continue
        if current is not None:
            kept = _lookup(current, row.pms_field)
            if kept != value and _keep_current(row.to_sf, kept, raw):
                value = kept
        out[row.pms_field] = value
    return out


def pms_to_sf(
    flow: Flow,
    pms_record: Mapping[str, Any],
    *,
    record_id: Any,
    current: Mapping[str, Any] | None = None,
    unknown: list[UnknownValue] | None = None,
) -> dict[str, Any]:
    """{Salesforce field: value} for every row that writes Salesforce.

    `current` is the linked Salesforce record if known; it and `unknown` play the same
    parts as in `sf_to_pms`.
    """
    out: dict[str, Any] = {}
    for row in flow.rows_to_sf:
        assert row.sf_field is not None  # only constant rows lack one, and they never write SF
        raw = _lookup(pms_record, row.pms_field)
        if raw is _MISSING:
            continue
        try:
            value = convert_to_sf(flow, row, raw, record_id)
        except UnknownValue as exc:
            if unknown is None:
                raise
            unknown.append(exc)
            continue
        if current is not None:
            kept = current.get(row.sf_field, _MISSING)
            if kept != value and _keep_current(row.to_pms, kept, raw):
                value = kept
        out[row.sf_field] = value
    return out
