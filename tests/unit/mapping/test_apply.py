"""The generic apply functions: dotted paths, partial records, clearing, kept lossy values."""

from __future__ import annotations

import datetime as dt

import pytest

from streams.mapping.apply import get_path, nest, pms_to_sf, set_path, sf_to_pms
from streams.mapping.flows import FLOWS

ORG = FLOWS["organization_customer"]
PROJECT = FLOWS["task_project"]


def test_get_path_reads_nested_values_and_defaults_when_absent() -> None:
    record = {"address": {"city": "Oslo"}, "name": "Fjord"}
    assert get_path(record, "address.city") == "Oslo"
    assert get_path(record, "address.country") is None
    assert get_path(record, "phone", default="n/a") == "n/a"
    assert get_path({"address": None}, "address.city") is None


def test_set_path_creates_and_replaces_empty_parents() -> None:
    record: dict[str, object] = {"address": None}
    set_path(record, "address.city", "Bergen")
    set_path(record, "address.country", "Norway")
    assert record == {"address": {"city": "Bergen", "country": "Norway"}}


def test_set_path_refuses_to_write_through_a_scalar() -> None:
    with pytest.raises(ValueError, match="address"):
        set_path({"address": "Main St"}, "address.city", "Oslo")


def test_nest_turns_dotted_keys_into_a_request_body() -> None:
    assert nest({"name": "Fjord", "address.city": "Oslo", "address.state": None}) == {
        "name": "Fjord",
        "address": {"city": "Oslo", "state": None},
    }


def test_partial_salesforce_change_maps_only_the_fields_it_carries() -> None:
    assert sf_to_pms(PROJECT, {"Id": "00T1", "Subject": "Plan"}, record_id="00T1") == {
        "name": "Plan"
    }


def test_partial_custompms_change_maps_only_the_fields_it_carries() -> None:
    assert pms_to_sf(ORG, {"address": {"city": "Oslo"}}, record_id="cus_1") == {"City": "Oslo"}


def test_present_none_clears_the_field_on_the_other_side() -> None:
    assert sf_to_pms(PROJECT, {"ActivityDate": None}, record_id="00T1") == {"due_date": None}
    assert pms_to_sf(PROJECT, {"description": None}, record_id="prj_1") == {"Description": None}


def test_an_empty_address_clears_every_address_field_salesforce_lets_the_api_update() -> None:
    # Organization.Country has no Update property in Salesforce: its row is one-way.
    assert pms_to_sf(ORG, {"address": None}, record_id="cus_1") == {
        "Street": None,
        "City": None,
        "State": None,
        "PostalCode": None,
    }


def test_iso_strings_are_accepted_and_come_out_as_python_dates() -> None:
    mapped = sf_to_pms(PROJECT, {"ActivityDate": "2025-03-31"}, record_id="00T1")
    assert mapped == {"due_date": dt.date(2025, 3, 31)}
    task = sf_to_pms(
        FLOWS["task_task"], {"CompletedDateTime": "2025-02-13T16:45:09.381+0000"}, record_id="00T1"
    )
    assert task["completed_at"] == dt.datetime(2025, 2, 13, 16, 45, 9, 381000, tzinfo=dt.UTC)


def test_cancelled_project_stays_cancelled_when_its_deferred_task_is_edited() -> None:
    change = {"Subject": "Renamed", "Status": "Deferred"}
    assert sf_to_pms(PROJECT, change, record_id="00T1")["status"] == "on_hold"
    kept = sf_to_pms(PROJECT, change, record_id="00T1", current={"status": "cancelled"})
    assert kept == {"name": "Renamed", "status": "cancelled"}


def test_a_real_status_change_in_salesforce_still_wins_over_the_current_value() -> None:
    mapped = sf_to_pms(
        PROJECT, {"Status": "Completed"}, record_id="00T1", current={"status": "cancelled"}
    )
    assert mapped == {"status": "completed"}


def test_deferred_task_stays_deferred_when_its_on_hold_project_is_edited() -> None:
    mapped = pms_to_sf(
        PROJECT, {"status": "on_hold"}, record_id="prj_1", current={"Status": "Deferred"}
    )
    assert mapped == {"Status": "Deferred"}
    plain = pms_to_sf(PROJECT, {"status": "on_hold"}, record_id="prj_1")
    assert plain == {"Status": "Waiting on someone else"}


def test_constants_can_be_left_out_of_an_update() -> None:
    division = FLOWS["division_customer"]
    change = {"Name": "North", "IsActive": True}
    assert sf_to_pms(division, change, record_id="02d1")["kind"] == "division"
    assert sf_to_pms(division, change, record_id="02d1", include_constants=False) == {
        "name": "North",
        "active": True,
    }
