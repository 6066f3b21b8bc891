"""Fixture loading and hypothesis strategies shared by the mapping tests."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from streams.mapping.apply import get_path, set_path
from streams.mapping.converters import (
    Boolean,
    Converter,
    DateTimeValue,
    DateValue,
    EnumMap,
    Text,
)
from streams.mapping.table import FieldRow, Flow

FIXTURES = Path(__file__).parent / "fixtures"
SF_OBJECTS = ("Division", "Organization", "Task")


def load_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def sf_describes() -> dict[str, Any]:
    return {name: load_json(f"sf_describe_{name.lower()}.json") for name in SF_OBJECTS}


def pms_openapi() -> dict[str, Any]:
    return load_json("custompms_openapi.json")


def _decode(value: Any, pms_type: str) -> Any:
    """What fastavro hands us: date and datetime objects rather than ISO strings."""
    if not isinstance(value, str):
        return value
    if pms_type == "date":
        return dt.date.fromisoformat(value)
    if pms_type == "datetime":
        return dt.datetime.fromisoformat(value)
    return value


def sf_record(flow: Flow) -> dict[str, Any]:
    """The flow's Salesforce fixture record, decoded the way fastavro decodes it."""
    record = load_json(f"records/{flow.name}.salesforce.json")
    for row in flow.rows:
        if row.sf_field in record:
            record[row.sf_field] = _decode(record[row.sf_field], row.pms_type)
    return record


def pms_record(flow: Flow) -> dict[str, Any]:
    """The flow's Custompms fixture record, decoded the way fastavro decodes it."""
    record = load_json(f"records/{flow.name}.custompms.json")
    for row in flow.rows:
        value = get_path(record, row.pms_field)
        if value is not None:
            set_path(record, row.pms_field, _decode(value, row.pms_type))
    return record


# -- hypothesis ------------------------------------------------------------------------------


def _values(converters: list[Converter]) -> st.SearchStrategy[Any]:
    """Values every converter in the chain accepts and carries (the first one's domain)."""
    first = converters[0]
    nullable = all(getattr(c, "nullable", False) for c in converters)
    base: st.SearchStrategy[Any]
    if isinstance(first, Text):
        texts = [c for c in converters if isinstance(c, Text)]
        base = st.text(max_size=min(c.max_length for c in texts))
        if any(not c.nullable for c in texts):
            base = base.filter(str.strip)  # required text must not be blank
    elif isinstance(first, Boolean):
        base = st.booleans()
    elif isinstance(first, EnumMap):
        base = st.sampled_from(first.sources)
    elif isinstance(first, DateValue):
        base = st.dates()
    elif isinstance(first, DateTimeValue):
        base = st.datetimes(min_value=dt.datetime(1900, 1, 2), timezones=st.just(dt.UTC)).map(
            lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
        )
    else:
        raise AssertionError(f"no strategy for {first!r}")
    return st.one_of(st.none(), base) if nullable else base


def sf_values(row: FieldRow) -> st.SearchStrategy[Any]:
    """Valid Salesforce values for a row (ones that also survive the way back when two-way)."""
    chain = [c for c in (row.to_pms, row.to_sf) if c is not None]
    return _values(chain)


def pms_values(row: FieldRow) -> st.SearchStrategy[Any]:
    """Valid Custompms values for a row (ones that also survive the way back when two-way)."""
    chain = [c for c in (row.to_sf, row.to_pms) if c is not None]
    return _values(chain)


def sf_records(flow: Flow) -> st.SearchStrategy[dict[str, Any]]:
    """Whole Salesforce records: every field the flow reads, with valid values."""
    rows = [r for r in flow.rows_to_pms if r.sf_field]
    return st.fixed_dictionaries({r.sf_field: sf_values(r) for r in rows if r.sf_field})


def pms_records(flow: Flow) -> st.SearchStrategy[dict[str, Any]]:
    """Whole Custompms records (nested): every property the flow writes to Salesforce."""
    flat = st.fixed_dictionaries({r.pms_field: pms_values(r) for r in flow.rows_to_sf})

    def nested(values: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for path, value in values.items():
            set_path(record, path, value)
        return record

    return flat.map(nested)
