"""Values a target would refuse raise ConversionError naming the flow, record and field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from foundation.errors import FatalError
from streams.mapping.apply import convert_to_pms, pms_to_sf, sf_to_pms
from streams.mapping.converters import DateTimeValue, LinkedId
from streams.mapping.errors import ConversionError
from streams.mapping.flows import FLOWS

SF_CASES = [
    ("task_project", {"Subject": "x" * 256}, "Subject", "name", "256 characters"),
    ("task_project", {"Description": "y" * 32_001}, "Description", "description", "32000"),
    (
        "organization_customer",
        {"DefaultLocaleSidKey": "l" * 36},
        "DefaultLocaleSidKey",
        "locale",
        "limit of 35",
    ),
    ("task_task", {"Subject": "   "}, "Subject", "title", "blank text is not allowed"),
    ("task_project", {"Status": "Postponed"}, "Status", "status", "unknown value 'Postponed'"),
    ("task_task", {"Priority": "Urgent"}, "Priority", "priority", "expected one of"),
    (
        "task_project",
        {"ActivityDate": "2025-02-30"},
        "ActivityDate",
        "due_date",
        "not a valid date",
    ),
    ("task_task", {"ActivityDate": "31/03/2025"}, "ActivityDate", "due_date", "YYYY-MM-DD"),
    (
        "task_task",
        {"ActivityDate": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)},
        "ActivityDate",
        "due_date",
        "got a date-time",
    ),
    (
        "task_task",
        {"CompletedDateTime": "yesterday"},
        "CompletedDateTime",
        "completed_at",
        "not a valid ISO-8601",
    ),
    (
        "task_task",
        {"CompletedDateTime": dt.datetime(2025, 1, 1)},
        "CompletedDateTime",
        "completed_at",
        "no time zone",
    ),
    ("task_project", {"Subject": 42}, "Subject", "name", "expected text, got int"),
    ("task_project", {"Subject": None}, "Subject", "name", "a value is required"),
    ("division_customer", {"IsActive": None}, "IsActive", "active", "a value is required"),
    ("division_customer", {"IsActive": "true"}, "IsActive", "active", "got str"),
    ("organization_customer", {"City": ["Oslo"]}, "City", "address.city", "got list"),
]

PMS_CASES = [
    ("organization_customer", {"name": "N" * 81}, "name", "Name", "limit of 80"),
    ("division_customer", {"name": ""}, "name", "Name", "blank text is not allowed"),
    (
        "organization_customer",
        {"address": {"postal_code": "1" * 21}},
        "address.postal_code",
        "PostalCode",
        "limit of 20",
    ),
    ("division_customer", {"active": None}, "active", "IsActive", "a value is required"),
    ("division_customer", {"active": 1}, "active", "IsActive", "got int"),
    ("task_task", {"status": "cancelled"}, "status", "Status", "unknown value 'cancelled'"),
    ("task_project", {"priority": "urgent"}, "priority", "Priority", "unknown value"),
    ("task_project", {"due_date": "next week"}, "due_date", "ActivityDate", "not a valid date"),
    ("task_project", {"status": None}, "status", "Status", "a value is required"),
]


@pytest.mark.parametrize(("flow_name", "record", "sf_field", "pms_field", "reason"), SF_CASES)
def test_bad_salesforce_value_raises_an_error_naming_flow_record_and_both_fields(
    flow_name: str, record: dict[str, Any], sf_field: str, pms_field: str, reason: str
) -> None:
    flow = FLOWS[flow_name]
    with pytest.raises(ConversionError) as caught:
        sf_to_pms(flow, record, record_id="SFREC0001")
    error = caught.value
    assert (error.flow, error.record, error.field) == (flow_name, "SFREC0001", sf_field)
    assert (error.sf_field, error.pms_field) == (sf_field, pms_field)
    text = str(error)
    assert reason in text
    assert f"Salesforce {flow.sf_object}.{sf_field}" in text
    assert f"Custompms {flow.pms_resource}.{pms_field}" in text
    assert "SFREC0001" in text and flow_name in text
    assert isinstance(error.__cause__, ConversionError)


@pytest.mark.parametrize(("flow_name", "record", "pms_field", "sf_field", "reason"), PMS_CASES)
def test_bad_custompms_value_raises_an_error_naming_flow_record_and_both_fields(
    flow_name: str, record: dict[str, Any], pms_field: str, sf_field: str, reason: str
) -> None:
    flow = FLOWS[flow_name]
    with pytest.raises(ConversionError) as caught:
        pms_to_sf(flow, record, record_id="cus_42")
    error = caught.value
    assert (error.flow, error.record, error.field) == (flow_name, "cus_42", pms_field)
    text = str(error)
    assert reason in text
    assert f"Salesforce {flow.sf_object}.{sf_field}" in text
    assert f"Custompms {flow.pms_resource}.{pms_field}" in text


def test_conversion_error_is_fatal_so_the_record_goes_to_the_dead_letter_topic() -> None:
    assert issubclass(ConversionError, FatalError)


def test_error_message_shows_a_short_preview_not_the_whole_value() -> None:
    with pytest.raises(ConversionError) as caught:
        sf_to_pms(FLOWS["task_project"], {"Status": "S" * 500}, record_id="00T1")
    assert len(str(caught.value)) < 400


def test_missing_project_link_is_an_error_naming_the_flow_it_waits_for() -> None:
    flow = FLOWS["task_task"]
    with pytest.raises(ConversionError, match="task_project"):
        convert_to_pms(flow, flow.row("project_id"), None, "00T1")


@pytest.mark.parametrize("value", [True, 1.5, {"id": "x"}])
def test_linked_id_refuses_values_that_are_not_ids(value: Any) -> None:
    with pytest.raises(ConversionError, match="expected a record id"):
        LinkedId("task_project")(value)


def test_datetime_beyond_the_utc_range_is_a_conversion_error() -> None:
    late = dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    with pytest.raises(ConversionError, match="out of range"):
        DateTimeValue()(late)
