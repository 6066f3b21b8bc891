"""Fuzzing the mapping core: any record either maps or raises one clear error.

`sf_to_pms`, `pms_to_sf` and every row's converters, given malformed and extreme values
(tests/unit/fuzz/hostile.py), must return a mapping of the flow's fields or raise
`ConversionError` naming the flow, the record and the field, with a message of bounded
size that does not repeat a long value. Never another exception type.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.mapping.apply import convert_to_pms, convert_to_sf, pms_to_sf, sf_to_pms
from streams.mapping.errors import ConversionError
from streams.mapping.flows import FLOWS
from streams.mapping.table import FieldRow, Flow
from tests.unit.fuzz.hostile import any_values, pms_records, sf_records

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
RECORD_ID = "00T5e00000FuZzAAA"
#: An operator reads the message: short even when the value is megabytes long.
MAX_MESSAGE = 1_500
ALL_FLOWS = [pytest.param(flow, id=name) for name, flow in FLOWS.items()]
ROWS = [
    pytest.param(flow, row, id=f"{flow.name}:{row.label}")
    for flow in FLOWS.values()
    for row in flow.rows
    if not row.is_reference
]


def _long_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if len(value) > 100 else []
    if isinstance(value, dict):
        return [s for v in value.values() for s in _long_strings(v)]
    return []


def assert_clear(exc: ConversionError, flow: Flow, fields: set[str], source: Any) -> None:
    """The error names flow, record and a field of the flow, briefly."""
    assert exc.flow == flow.name, exc
    assert exc.record == RECORD_ID, exc
    assert exc.field in fields, exc
    text = str(exc)
    assert flow.name in text and RECORD_ID in text and str(exc.field) in text, text
    assert len(text) <= MAX_MESSAGE, f"{len(text)} characters: {text[:200]}"
    for long in _long_strings(source):
        assert long not in text, "the message repeats a long value instead of its length"


def _sf_fields(flow: Flow) -> set[str]:
    return {r.sf_field for r in flow.rows if r.sf_field} | {r.pms_field for r in flow.rows}


@pytest.mark.parametrize("flow", ALL_FLOWS)
def test_any_salesforce_record_maps_or_raises_a_conversion_error_naming_it(flow: Flow) -> None:
    @FUZZ
    @given(
        record=sf_records(flow, any_values()),
        current=st.one_of(st.none(), pms_records(flow, any_values())),
    )
    def check(record: dict[str, Any], current: dict[str, Any] | None) -> None:
        try:
            mapped = sf_to_pms(flow, record, record_id=RECORD_ID, current=current)
        except ConversionError as exc:
            assert_clear(exc, flow, _sf_fields(flow), record)
            return
        assert set(mapped) <= {r.pms_field for r in flow.rows_to_pms}

    check()


@pytest.mark.parametrize("flow", ALL_FLOWS)
def test_any_custompms_record_maps_or_raises_a_conversion_error_naming_it(flow: Flow) -> None:
    @FUZZ
    @given(
        record=pms_records(flow, any_values()),
        current=st.one_of(st.none(), sf_records(flow, any_values())),
    )
    def check(record: dict[str, Any], current: dict[str, Any] | None) -> None:
        try:
            mapped = pms_to_sf(flow, record, record_id=RECORD_ID, current=current)
        except ConversionError as exc:
            assert_clear(exc, flow, {r.pms_field for r in flow.rows}, record)
            return
        assert set(mapped) <= {r.sf_field for r in flow.rows_to_sf}

    check()


@pytest.mark.parametrize(("flow", "row"), ROWS)
def test_every_converter_maps_any_value_or_raises_a_conversion_error(
    flow: Flow, row: FieldRow
) -> None:
    @FUZZ
    @given(value=any_values())
    def check(value: Any) -> None:
        for convert, writes in ((convert_to_pms, row.to_pms), (convert_to_sf, row.to_sf)):
            if writes is None:
                continue
            try:
                convert(flow, row, value, RECORD_ID)
            except ConversionError as exc:
                assert_clear(exc, flow, {row.pms_field, str(row.sf_field)}, {"v": value})

    check()
