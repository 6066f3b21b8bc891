"""Property tests: two-way rows give back what they were given; lossy rows settle at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.mapping.apply import get_path, nest, pms_to_sf, sf_to_pms
from streams.mapping.converters import DateTimeValue
from streams.mapping.flows import FLOWS
from streams.mapping.table import FieldRow, Flow
from tests.unit.mapping.support import pms_records, pms_values, sf_records, sf_values

EXAMPLES = settings(max_examples=200, deadline=None)

TWO_WAY: list[tuple[Flow, FieldRow]] = [
    (flow, row)
    for flow in FLOWS.values()
    for row in flow.rows
    if row.to_pms is not None and row.to_sf is not None
]


def _params(pairs: list[tuple[Flow, FieldRow]]) -> list[Any]:
    return [pytest.param(flow, row, id=f"{flow.name}:{row.label}") for flow, row in pairs]


BIJECTIVE = _params([(flow, row) for flow, row in TWO_WAY if not row.lossy])
LOSSY = _params([(flow, row) for flow, row in TWO_WAY if row.lossy])
ALL_FLOWS = [pytest.param(flow, id=name) for name, flow in FLOWS.items()]
FLOWS_WITH_LOSSY_ROWS = [
    pytest.param(flow, id=name) for name, flow in FLOWS.items() if any(r.lossy for r in flow.rows)
]


def test_the_status_rows_are_the_lossy_ones() -> None:
    assert sorted(str(p.id) for p in LOSSY) == [
        "task_project:Status <-> status",
        "task_task:Status <-> status",
    ]


@pytest.mark.parametrize(("flow", "row"), BIJECTIVE)
def test_bijective_row_gives_back_any_salesforce_value(flow: Flow, row: FieldRow) -> None:
    @EXAMPLES
    @given(sf_values(row))
    def check(value: Any) -> None:
        assert row.to_sf is not None and row.to_pms is not None
        assert row.to_sf(row.to_pms(value)) == value

    check()


@pytest.mark.parametrize(("flow", "row"), BIJECTIVE)
def test_bijective_row_gives_back_any_custompms_value(flow: Flow, row: FieldRow) -> None:
    @EXAMPLES
    @given(pms_values(row))
    def check(value: Any) -> None:
        assert row.to_sf is not None and row.to_pms is not None
        assert row.to_pms(row.to_sf(value)) == value

    check()


@pytest.mark.parametrize(("flow", "row"), LOSSY)
def test_lossy_row_is_stable_after_one_round_trip(flow: Flow, row: FieldRow) -> None:
    assert row.to_sf is not None and row.to_pms is not None
    to_pms, to_sf = row.to_pms, row.to_sf

    @EXAMPLES
    @given(sf_values(row), pms_values(row))
    def check(sf_value: Any, pms_value: Any) -> None:
        once = to_sf(to_pms(sf_value))
        assert to_sf(to_pms(once)) == once
        back = to_pms(to_sf(pms_value))
        assert to_pms(to_sf(back)) == back

    check()


@pytest.mark.parametrize("flow", ALL_FLOWS)
def test_any_salesforce_record_survives_a_round_trip_on_two_way_rows(flow: Flow) -> None:
    @EXAMPLES
    @given(sf_records(flow))
    def check(record: dict[str, Any]) -> None:
        back = pms_to_sf(flow, nest(sf_to_pms(flow, record, record_id="sf")), record_id="pms")
        for row in flow.rows_to_sf:
            if row.writes_pms and not row.lossy and row.sf_field:
                assert back[row.sf_field] == record[row.sf_field]

    check()


@pytest.mark.parametrize("flow", ALL_FLOWS)
def test_any_custompms_record_survives_a_round_trip_on_two_way_rows(flow: Flow) -> None:
    @EXAMPLES
    @given(pms_records(flow))
    def check(record: dict[str, Any]) -> None:
        back = sf_to_pms(flow, pms_to_sf(flow, record, record_id="pms"), record_id="sf")
        for row in flow.rows_to_sf:
            if row.writes_pms and not row.lossy:
                assert back[row.pms_field] == get_path(record, row.pms_field)

    check()


@pytest.mark.parametrize("flow", FLOWS_WITH_LOSSY_ROWS)
def test_lossy_value_is_kept_while_the_other_side_still_shows_it(flow: Flow) -> None:
    """A cancelled Project whose Task comes back as Deferred stays cancelled, for any edit."""
    row = next(r for r in flow.rows if r.lossy)
    to_sf, sf_field = row.to_sf, row.sf_field
    assert to_sf is not None and sf_field is not None

    @EXAMPLES
    @given(pms_values(row))
    def check(current: Any) -> None:
        shown = to_sf(current)
        mapped = sf_to_pms(flow, {sf_field: shown}, record_id="sf", current={row.key: current})
        assert mapped[row.key] == current

    check()


@EXAMPLES
@given(
    st.datetimes(
        min_value=dt.datetime(1, 1, 2),
        max_value=dt.datetime(9999, 12, 30),
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-7))]),
    )
)
def test_datetimes_come_out_in_utc_at_millisecond_precision_and_settle(value: dt.datetime) -> None:
    converter = DateTimeValue()
    once = converter(value)
    assert once.tzinfo is dt.UTC
    assert once.microsecond % 1000 == 0
    assert abs(once - value) < dt.timedelta(milliseconds=1)
    assert converter(once) == once
    assert converter(once.isoformat()) == once
