"""The emulator driven by the unmodified simple-salesforce client, over HTTPS.

Every call here goes through the real REST paths (the admin route only loads the 2000+
records of the paging test).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from tests.integration.salesforce.support import RunningSalesforce

pytestmark = pytest.mark.integration


def _content(exc: pytest.ExceptionInfo[Exception]) -> Any:
    """The parsed error body simple-salesforce attaches to its exceptions."""
    return getattr(exc.value, "content", None)


def _codes(exc: pytest.ExceptionInfo[Exception]) -> list[str]:
    return [item["errorCode"] for item in _content(exc)]


def test_create_get_update_delete_round_trip(sf: RunningSalesforce) -> None:
    client = sf.simple()
    created = client.Task.create({"Subject": "Call Acme", "ActivityDate": "2026-12-01"})
    assert created["success"] is True and created["errors"] == []
    task_id = created["id"]
    assert len(task_id) == 18 and task_id.startswith("00T")

    task = client.Task.get(task_id)
    assert task["attributes"] == {
        "type": "Task",
        "url": f"/services/data/v60.0/sobjects/Task/{task_id}",
    }
    assert task["Status"] == "Not Started" and task["Priority"] == "Normal"
    assert task["ActivityDate"] == "2026-12-01"
    assert task["IsClosed"] is False

    assert client.Task.update(task_id, {"Status": "Completed"}) == 204
    completed = client.Task.get(task_id)
    assert completed["IsClosed"] is True and completed["CompletedDateTime"] is not None
    assert completed["LastModifiedDate"] >= completed["CreatedDate"]

    assert client.Task.delete(task_id) == 204
    with pytest.raises(SalesforceResourceNotFound):
        client.Task.get(task_id)


def test_datetimes_are_in_salesforce_format(sf: RunningSalesforce) -> None:
    client = sf.simple()
    task = client.Task.get(client.Task.create({"Subject": "x"})["id"])
    stamp = task["SystemModstamp"]
    assert stamp.endswith("+0000") and len(stamp) == len("2026-11-25T23:08:24.000+0000")
    assert datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").tzinfo is not None


def test_get_with_fields_parameter_returns_only_those_fields(sf: RunningSalesforce) -> None:
    client = sf.simple()
    task_id = client.Task.create({"Subject": "x"})["id"]
    task = client.Task.get(task_id, params={"fields": "Subject,Status"})
    assert set(task) == {"attributes", "Subject", "Status"}


def test_15_character_id_reads_the_same_record(sf: RunningSalesforce) -> None:
    client = sf.simple()
    task_id = client.Task.create({"Subject": "short id"})["id"]
    assert client.Task.get(task_id[:15])["Id"] == task_id


def test_upsert_by_external_id_creates_then_updates_then_reports_duplicates(
    sf: RunningSalesforce,
) -> None:
    client = sf.simple()
    assert client.Task.upsert("Custompms_Id__c/cpm-1", {"Subject": "from custompms"}) == 201
    assert client.Task.upsert("Custompms_Id__c/cpm-1", {"Subject": "edited"}) == 200
    found = client.query("SELECT Id, Subject FROM Task WHERE Custompms_Id__c = 'cpm-1'")
    assert found["totalSize"] == 1 and found["records"][0]["Subject"] == "edited"

    client.Task.create({"Subject": "twin", "Custompms_Id__c": "cpm-1"})
    with pytest.raises(SalesforceMoreThanOneRecord) as exc:
        client.Task.upsert("Custompms_Id__c/cpm-1", {"Subject": "ambiguous"})
    urls = _content(exc)
    assert len(urls) == 2 and all(
        u.startswith("/services/data/v60.0/sobjects/Task/00T") for u in urls
    )


def test_upsert_response_body_says_whether_it_created(sf: RunningSalesforce) -> None:
    client = sf.simple()
    first = client.Task.upsert("Custompms_Id__c/cpm-2", {"Subject": "a"}, raw_response=True)
    second = client.Task.upsert("Custompms_Id__c/cpm-2", {"Subject": "b"}, raw_response=True)
    assert first.json()["created"] is True and second.json()["created"] is False
    assert first.json()["id"] == second.json()["id"]


def test_unknown_id_and_unknown_external_field_are_not_found(sf: RunningSalesforce) -> None:
    client = sf.simple()
    with pytest.raises(SalesforceResourceNotFound) as exc:
        client.Task.get("00T5e00000ZZZZZ")
    assert _codes(exc) == ["NOT_FOUND"]
    with pytest.raises(SalesforceResourceNotFound):
        client.Task.upsert("Nope__c/1", {"Subject": "x"})


def test_query_all_pages_past_2000_records_and_includes_deleted(sf: RunningSalesforce) -> None:
    ids = sf.bulk("Task", [{"Subject": f"bulk {n:04d}"} for n in range(2150)])
    client = sf.simple()
    client.Task.delete(ids[0])

    first_page = client.query("SELECT Id FROM Task")
    assert first_page["totalSize"] == 2149 and first_page["done"] is False
    assert len(first_page["records"]) == 2000
    assert first_page["nextRecordsUrl"].startswith("/services/data/v60.0/query/01g")

    everything = client.query_all("SELECT Id, Subject FROM Task ORDER BY Subject")
    assert everything["totalSize"] == 2149
    assert [r["Subject"] for r in everything["records"]] == [
        f"bulk {n:04d}" for n in range(1, 2150)
    ]

    with_deleted = client.query_all(
        "SELECT Id, IsDeleted FROM Task WHERE IsDeleted = true", include_deleted=True
    )
    assert [r["Id"] for r in with_deleted["records"]] == [ids[0]]


def test_updated_and_deleted_replication_resources(sf: RunningSalesforce) -> None:
    client = sf.simple()
    start = datetime.now(UTC) - timedelta(minutes=5)
    kept = client.Task.create({"Subject": "kept"})["id"]
    gone = client.Task.create({"Subject": "gone"})["id"]
    client.Task.delete(gone)
    end = datetime.now(UTC) + timedelta(minutes=2)

    updated = client.Task.updated(start, end)
    assert updated["ids"] == [kept]
    covered = datetime.strptime(updated["latestDateCovered"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert covered <= end

    deleted = client.Task.deleted(start, end)
    assert [d["id"] for d in deleted["deletedRecords"]] == [gone]
    assert deleted["earliestDateAvailable"] < deleted["latestDateCovered"]


def test_describe_object_and_global(sf: RunningSalesforce) -> None:
    client = sf.simple()
    described = client.Task.describe()
    fields = {f["name"]: f for f in described["fields"]}
    assert described["keyPrefix"] == "00T"
    assert fields["Subject"]["type"] == "combobox" and fields["Subject"]["length"] == 255
    status = fields["Status"]
    assert status["restrictedPicklist"] is True and status["nillable"] is False
    assert [p["value"] for p in status["picklistValues"]] == [
        "Not Started",
        "In Progress",
        "Completed",
        "Waiting on someone else",
        "Deferred",
    ]
    assert fields["Custompms_Id__c"]["externalId"] is True
    assert fields["IsClosed"]["updateable"] is False
    names = {o["name"] for o in client.describe()["sobjects"]}
    assert {"Task", "Division", "Organization", "User"} <= names


def test_required_field_missing(sf: RunningSalesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.simple().Division.create({"SortOrder": 3})
    assert _codes(exc) == ["REQUIRED_FIELD_MISSING"]
    assert _content(exc)[0]["fields"] == ["Name"]


def test_string_too_long(sf: RunningSalesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.simple().Task.create({"Subject": "x" * 256})
    assert _codes(exc) == ["STRING_TOO_LONG"]
    assert _content(exc)[0]["fields"] == ["Subject"]


def test_bad_value_for_restricted_picklist(sf: RunningSalesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.simple().Task.create({"Subject": "x", "Status": "Someday"})
    assert _codes(exc) == ["INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"]


def test_read_only_field_cannot_be_written(sf: RunningSalesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.simple().Task.create({"Subject": "x", "IsClosed": True})
    assert _codes(exc) == ["INVALID_FIELD_FOR_INSERT_UPDATE"]


def test_malformed_query_and_invalid_field(sf: RunningSalesforce) -> None:
    client = sf.simple()
    with pytest.raises(SalesforceMalformedRequest) as exc:
        client.query("SELECT Id FROM Task WHERE")
    assert _codes(exc) == ["MALFORMED_QUERY"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        client.query("SELECT Nope FROM Task")
    assert _codes(exc) == ["INVALID_FIELD"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        client.query("SELECT Id FROM Nope__c")
    assert _codes(exc) == ["INVALID_TYPE"]


def test_expired_session_is_invalid_session_id(sf: RunningSalesforce) -> None:
    client = sf.simple()
    client.query("SELECT Id FROM Task")
    sf.admin("POST", "/expire-tokens")
    with pytest.raises(SalesforceExpiredSession) as exc:
        client.query("SELECT Id FROM Task")
    assert _content(exc) == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_daily_limit_exceeded_is_refused(sf: RunningSalesforce) -> None:
    client = sf.simple()
    client.query("SELECT Id FROM Task")
    assert client.api_usage["api-usage"].used == 1
    sf.admin("POST", "/limits", json={"used": 100_000})
    with pytest.raises(SalesforceRefusedRequest) as exc:
        client.query("SELECT Id FROM Task")
    assert _content(exc) == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
