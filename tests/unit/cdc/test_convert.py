"""API JSON -> Avro entity records, driven by the schemas in schemas/."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from connectors.cdc.convert import EnvelopeError, convert_record, entity_fields, field_names

SF_TASK: dict[str, Any] = {
    "attributes": {"type": "Task", "url": "/services/data/v60.0/sobjects/Task/00T1"},
    "Id": "00T000000000001AAA",
    "Subject": "Call",
    "ActivityDate": "2026-12-01",
    "IsClosed": False,
    "IsDeleted": False,
    "CreatedDate": "2026-11-25T23:08:24.000+0000",
    "SystemModstamp": "2026-11-25T23:08:25.123+0000",
    "TaskSubtype": "Task",
}

PMS_CUSTOMER: dict[str, Any] = {
    "id": "cus_000001",
    "version": 2,
    "created_at": "2026-11-25T23:08:24.000Z",
    "updated_at": "2026-11-25T23:08:25.500Z",
    "deleted_at": None,
    "name": "Acme",
    "active": True,
    "address": {"street": None, "city": "Oslo", "state": None, "postal_code": "0150"},
}


def test_salesforce_record_converts_datetimes_and_dates_and_drops_unknown_fields() -> None:
    record = convert_record("salesforce", "Task", SF_TASK)
    assert record["SystemModstamp"] == datetime(2026, 11, 25, 23, 8, 25, 123000, tzinfo=UTC)
    assert record["ActivityDate"] == date(2026, 12, 1)
    assert record["IsClosed"] is False
    assert "attributes" not in record and "TaskSubtype" not in record
    assert list(record) == list(field_names("salesforce", "Task"))


def test_fields_the_api_did_not_send_are_null() -> None:
    record = convert_record("salesforce", "Task", {"Id": "00T000000000001AAA"})
    assert record["Id"] == "00T000000000001AAA"
    assert all(value is None for name, value in record.items() if name != "Id")


def test_custompms_record_keeps_the_nested_address_and_fills_missing_parts() -> None:
    record = convert_record("custompms", "customer", PMS_CUSTOMER)
    assert record["address"] == {
        "street": None,
        "city": "Oslo",
        "state": None,
        "postal_code": "0150",
        "country": None,
    }
    assert record["updated_at"] == datetime(2026, 11, 25, 23, 8, 25, 500000, tzinfo=UTC)
    assert "deleted_at" not in record
    assert record["version"] == 2


def test_custompms_dates_become_dates() -> None:
    raw = {"id": "prj_000001", "version": 1, "start_date": "2026-01-02", "due_date": None}
    record = convert_record("custompms", "project", raw)
    assert record["start_date"] == date(2026, 1, 2) and record["due_date"] is None


@pytest.mark.parametrize(
    ("system", "entity", "raw", "field"),
    [
        ("salesforce", "Division", {"Id": "02d1", "SortOrder": 2**40}, "SortOrder"),
        ("salesforce", "Division", {"Id": "02d1", "SortOrder": "3"}, "SortOrder"),
        ("salesforce", "Division", {"Id": "02d1", "SortOrder": True}, "SortOrder"),
        ("salesforce", "Division", {"Id": "02d1", "IsActive": "true"}, "IsActive"),
        ("salesforce", "Task", {"Id": "00T1", "Subject": 12}, "Subject"),
        ("salesforce", "Task", {"Id": "00T1", "ActivityDate": "01/12/2026"}, "ActivityDate"),
        ("salesforce", "Task", {"Id": "00T1", "CreatedDate": "yesterday"}, "CreatedDate"),
        ("salesforce", "Task", {"Subject": "no id"}, "Id"),
        ("custompms", "customer", {"id": "cus_1", "version": 1, "address": "Oslo"}, "address"),
        (
            "custompms",
            "customer",
            {"id": "cus_1", "version": 1, "address": {"city": 7}},
            "address.city",
        ),
        ("custompms", "task", {"id": "tsk_1"}, "version"),
        ("custompms", "task", {"id": "tsk_1", "version": 1, "due_date": "2026-13-01"}, "due_date"),
    ],
)
def test_a_value_that_does_not_fit_names_system_entity_record_and_field(
    system: str, entity: str, raw: dict[str, Any], field: str
) -> None:
    with pytest.raises(EnvelopeError) as caught:
        convert_record(system, entity, raw)
    error = caught.value
    assert error.field == field
    assert (error.system, error.entity) == (system, entity)
    message = str(error)
    assert system in message and entity in message and field in message
    assert "re-drive" in message


def test_conversion_errors_do_not_echo_the_offending_value() -> None:
    with pytest.raises(EnvelopeError) as caught:
        convert_record("salesforce", "Task", {"Id": "00T1", "CreatedDate": "secret-ish-text"})
    assert "secret-ish-text" not in str(caught.value)


def test_integral_floats_are_accepted_for_integer_fields() -> None:
    record = convert_record("salesforce", "Division", {"Id": "02d1", "SortOrder": 3.0})
    assert record["SortOrder"] == 3 and isinstance(record["SortOrder"], int)


def test_every_entity_schema_is_understood() -> None:
    for system, entities in (
        ("salesforce", ("Division", "Organization", "Task")),
        ("custompms", ("customer", "project", "task")),
    ):
        for entity in entities:
            assert entity_fields(system, entity), f"{system} {entity} has no fields"
