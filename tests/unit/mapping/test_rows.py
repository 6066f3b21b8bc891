"""Every row of every flow, in each direction it carries, against the fixture records.

Each flow has one Salesforce and one Custompms fixture record that stand for each other
(fixtures/records/); mapping one must give the other's values, and a round trip must give
the original back.
"""

from __future__ import annotations

from typing import Any

import pytest

from streams.mapping.apply import (
    convert_to_pms,
    convert_to_sf,
    get_path,
    nest,
    pms_to_sf,
    row_value_pms,
    row_value_sf,
    sf_to_pms,
)
from streams.mapping.flows import FLOWS
from streams.mapping.table import FieldRow, Flow
from tests.unit.mapping.support import pms_record, sf_record


def _cases(direction: str) -> list[Any]:
    cases = []
    for flow in FLOWS.values():
        for row in flow.rows:
            writes = row.writes_pms if direction == "to_pms" else row.writes_sf
            if writes and not row.is_reference:
                cases.append(pytest.param(flow, row, id=f"{flow.name}:{row.label}"))
    return cases


@pytest.mark.parametrize(("flow", "row"), _cases("to_pms"))
def test_salesforce_value_maps_to_the_matching_custompms_value(flow: Flow, row: FieldRow) -> None:
    sf, pms = sf_record(flow), pms_record(flow)
    converted = convert_to_pms(flow, row, row_value_sf(row, sf), sf["Id"])
    assert converted == row_value_pms(row, pms)


@pytest.mark.parametrize(("flow", "row"), _cases("to_sf"))
def test_custompms_value_maps_to_the_matching_salesforce_value(flow: Flow, row: FieldRow) -> None:
    sf, pms = sf_record(flow), pms_record(flow)
    converted = convert_to_sf(flow, row, row_value_pms(row, pms), pms["id"])
    assert converted == row_value_sf(row, sf)


@pytest.mark.parametrize("flow", list(FLOWS.values()), ids=list(FLOWS))
def test_salesforce_record_round_trips_through_custompms(flow: Flow) -> None:
    sf = sf_record(flow)
    as_pms = sf_to_pms(flow, sf, record_id=sf["Id"])
    back = pms_to_sf(flow, nest(as_pms), record_id="pms-twin")
    expected = {r.sf_field: sf[r.sf_field] for r in flow.rows_to_sf if r.writes_pms and r.sf_field}
    assert back == expected


@pytest.mark.parametrize("flow", list(FLOWS.values()), ids=list(FLOWS))
def test_custompms_record_round_trips_through_salesforce(flow: Flow) -> None:
    pms = pms_record(flow)
    as_sf = pms_to_sf(flow, pms, record_id=pms["id"])
    back = sf_to_pms(flow, as_sf, record_id="sf-twin")
    two_way = [r for r in flow.rows_to_sf if r.writes_pms]
    assert {path: back[path] for path in back if not flow.row(path).is_constant} == {
        r.pms_field: get_path(pms, r.pms_field) for r in two_way
    }


@pytest.mark.parametrize("flow", list(FLOWS.values()), ids=list(FLOWS))
def test_salesforce_fixture_maps_to_every_custompms_property_the_flow_writes(flow: Flow) -> None:
    sf, pms = sf_record(flow), pms_record(flow)
    mapped = sf_to_pms(flow, sf, record_id=sf["Id"])
    assert set(mapped) == {r.pms_field for r in flow.rows_to_pms}
    assert mapped == {path: get_path(pms, path) for path in mapped}


def test_task_task_leaves_the_project_reference_to_the_engine() -> None:
    flow = FLOWS["task_task"]
    mapped = sf_to_pms(flow, sf_record(flow), record_id="00T5g00000XyZwVEA3")
    assert "project_id" not in mapped
    row = flow.row("project_id")
    assert flow.requires == (("project_id", "task_project"),)
    assert convert_to_pms(flow, row, "prj_1", "00T5g00000XyZwVEA3") == "prj_1"


def test_customer_flows_stamp_their_kind_on_every_mapped_record() -> None:
    division, organization = FLOWS["division_customer"], FLOWS["organization_customer"]
    assert sf_to_pms(division, {"Name": "North"}, record_id="02d1")["kind"] == "division"
    assert sf_to_pms(organization, {}, record_id="00D1") == {"kind": "organization"}
