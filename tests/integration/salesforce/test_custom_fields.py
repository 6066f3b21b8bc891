"""Custom fields from configuration on the Salesforce emulator, and picklist drift at runtime."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from emulators.salesforce.custom_fields import parse_custom_fields
from tests.integration.salesforce.support import RunningSalesforce

pytestmark = pytest.mark.integration

Starter = Callable[..., AbstractContextManager[RunningSalesforce]]
FIELDS = [
    {
        "object": "Task",
        "name": "Region__c",
        "type": "picklist",
        "label": "Region",
        "values": ["EMEA", "APAC"],
        "restricted": True,
    },
    {"object": "Task", "name": "Channel__c", "type": "picklist", "values": ["Web", "Phone"]},
    {"object": "Task", "name": "Ticket__c", "type": "text", "length": 12, "external_id": True},
    {"object": "Task", "name": "Budget__c", "type": "number", "precision": 6, "scale": 2},
    {"object": "Task", "name": "Billable__c", "type": "checkbox", "default": True},
    {"object": "Task", "name": "Kickoff__c", "type": "date"},
    {"object": "Task", "name": "Signed_At__c", "type": "datetime"},
    {"object": "Division", "name": "Code__c", "type": "text", "length": 8},
]


@pytest.fixture
def custom_sf(start_sf: Starter) -> Iterator[RunningSalesforce]:
    with start_sf(custom_fields=tuple(parse_custom_fields(FIELDS))) as running:
        yield running


def _codes(exc: pytest.ExceptionInfo[SalesforceMalformedRequest]) -> list[str]:
    content: Any = exc.value.content
    return [item["errorCode"] for item in content]


def test_describe_shows_the_declared_fields(custom_sf: RunningSalesforce) -> None:
    fields = {f["name"]: f for f in custom_sf.simple().Task.describe()["fields"]}
    region = fields["Region__c"]
    assert (region["type"], region["custom"], region["restrictedPicklist"]) == (
        "picklist",
        True,
        True,
    )
    assert [p["value"] for p in region["picklistValues"]] == ["EMEA", "APAC"]
    assert fields["Ticket__c"]["length"] == 12 and fields["Ticket__c"]["externalId"] is True
    budget = fields["Budget__c"]
    assert (budget["type"], budget["precision"], budget["scale"]) == ("double", 6, 2)
    assert fields["Billable__c"]["type"] == "boolean" and fields["Billable__c"]["nillable"] is False
    assert fields["Kickoff__c"]["type"] == "date"
    assert fields["Signed_At__c"]["type"] == "datetime"
    division = {f["name"] for f in custom_sf.simple().Division.describe()["fields"]}
    assert "Code__c" in division and "Region__c" not in division


def test_custom_fields_are_written_read_and_queried_like_any_field(
    custom_sf: RunningSalesforce,
) -> None:
    client = custom_sf.simple()
    first = client.Task.create(
        {
            "Subject": "a",
            "Region__c": "EMEA",
            "Budget__c": 12.345,
            "Kickoff__c": "2026-12-01",
            "Signed_At__c": "2026-12-01T10:00:00Z",
            "Channel__c": "Carrier pigeon",
        }
    )["id"]
    client.Task.create(
        {"Subject": "b", "Region__c": "APAC", "Budget__c": "99", "Billable__c": False}
    )
    task = client.Task.get(first)
    assert task["Budget__c"] == 12.35  # rounded half up to the field's scale
    assert task["Billable__c"] is True  # the checkbox default
    assert task["Signed_At__c"] == "2026-12-01T10:00:00.000+0000"
    assert task["Channel__c"] == "Carrier pigeon"  # an unrestricted picklist takes any value
    client.Task.update(first, {"Region__c": "APAC", "Budget__c": None})
    rows = client.query(
        "SELECT Subject, Region__c, Budget__c, Billable__c FROM Task "
        "WHERE Region__c = 'APAC' AND Kickoff__c = null ORDER BY Budget__c DESC NULLS LAST"
    )["records"]
    assert [(r["Subject"], r["Budget__c"], r["Billable__c"]) for r in rows] == [("b", 99.0, False)]
    everything = client.query("SELECT Subject FROM Task WHERE Kickoff__c = 2026-12-01")
    assert [r["Subject"] for r in everything["records"]] == ["a"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"Region__c": "Mars"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
        ({"Ticket__c": "T" * 13}, "STRING_TOO_LONG"),
        ({"Budget__c": 10_000}, "NUMBER_OUTSIDE_VALID_RANGE"),
        ({"Budget__c": "lots"}, "JSON_PARSER_ERROR"),
        ({"Billable__c": "maybe"}, "JSON_PARSER_ERROR"),
        ({"Kickoff__c": "tomorrow"}, "JSON_PARSER_ERROR"),
        ({"Nope__c": 1}, "INVALID_FIELD"),
    ],
)
def test_custom_field_values_are_validated_with_salesforce_codes(
    custom_sf: RunningSalesforce, body: dict[str, Any], code: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        custom_sf.simple().Task.create({"Subject": "x", **body})
    assert _codes(exc) == [code]


def test_a_custom_external_id_serves_upserts(custom_sf: RunningSalesforce) -> None:
    client = custom_sf.simple()
    assert client.Task.upsert("Ticket__c/T-1", {"Subject": "from ticket"}) == 201
    token = custom_sf.token()
    results = custom_sf.api(
        "PATCH",
        "/composite/sobjects/Task/Ticket__c",
        token,
        json={
            "records": [
                {"attributes": {"type": "Task"}, "Ticket__c": "T-1", "Subject": "up"},
                {"attributes": {"type": "Task"}, "Ticket__c": "T-2", "Region__c": "x"},
            ]
        },
    ).json()
    assert results[0]["created"] is False and results[0]["success"] is True
    assert results[1]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_an_administrator_adds_a_picklist_value_at_runtime(sf: RunningSalesforce) -> None:
    client = sf.simple()
    with pytest.raises(SalesforceMalformedRequest):
        client.Task.create({"Subject": "x", "Status": "Escalated"})
    added = sf.admin(
        "POST",
        "/picklist-values",
        json={"sobject": "Task", "field": "Status", "value": "Escalated"},
    )
    assert added["values"][-1] == "Escalated"
    statuses = next(f for f in client.Task.describe()["fields"] if f["name"] == "Status")
    assert "Escalated" in [p["value"] for p in statuses["picklistValues"]]
    task_id = client.Task.create({"Subject": "x", "Status": "Escalated"})["id"]
    assert client.Task.get(task_id)["Status"] == "Escalated"
    refused = sf.http.post(
        f"{sf.url}/__emulator__/picklist-values",
        json={"sobject": "Task", "field": "Subject2", "value": "v"},
    )
    assert refused.status_code == 400


def test_custom_field_values_survive_a_restart(start_sf: Starter, tmp_path: Path) -> None:
    config = {"custom_fields": tuple(parse_custom_fields(FIELDS)), "db_path": tmp_path / "sf.db"}
    with start_sf(**config) as first:
        task_id = first.simple().Task.create(
            {"Subject": "kept", "Kickoff__c": "2026-12-24", "Signed_At__c": "2026-12-24T08:00:00Z"}
        )["id"]
    with start_sf(**config) as second:
        rows = second.simple().query(
            "SELECT Id FROM Task WHERE Kickoff__c = 2026-12-24 "
            "AND Signed_At__c > 2026-12-24T07:00:00Z"
        )["records"]
    assert [r["Id"] for r in rows] == [task_id]
