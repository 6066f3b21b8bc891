"""Record-level behaviour beyond what simple-salesforce exercises: Organization, Division,
validation codes, bookkeeping, persistence."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tests.integration.salesforce.support import RunningSalesforce

pytestmark = pytest.mark.integration

StartSf = Callable[..., AbstractContextManager[RunningSalesforce]]


def _org(sf: RunningSalesforce, token: str) -> dict[str, object]:
    rows = sf.api("GET", "/query", token, params={"q": "SELECT Id, Name, Phone FROM Organization"})
    records = rows.json()["records"]
    assert len(records) == 1
    return dict(records[0])


def test_organization_name_phone_and_address_are_updateable(sf: RunningSalesforce) -> None:
    token = sf.token()
    org = _org(sf, token)
    patch = {"Name": "Renamed Org", "Phone": "+44 20 7946 0000", "City": "London"}
    assert (
        sf.api("PATCH", f"/sobjects/Organization/{org['Id']}", token, json=patch).status_code == 204
    )
    after = sf.api("GET", f"/sobjects/Organization/{org['Id']}", token).json()
    assert (after["Name"], after["Phone"], after["City"]) == (
        "Renamed Org",
        "+44 20 7946 0000",
        "London",
    )


def test_organization_country_is_read_only_but_its_settings_can_be_updated(
    sf: RunningSalesforce,
) -> None:
    # As the Organization object reference lists them: Country has no Update property;
    # TimeZoneSidKey (a restricted picklist) does.
    token = sf.token()
    org = _org(sf, token)
    url = f"/sobjects/Organization/{org['Id']}"
    response = sf.api("PATCH", url, token, json={"Country": "Norway"})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert sf.api("PATCH", url, token, json={"TimeZoneSidKey": "GMT"}).status_code == 204
    refused = sf.api("PATCH", url, token, json={"TimeZoneSidKey": "Mars/Olympus"})
    assert refused.status_code == 400
    assert sf.api("GET", url, token).json()["TimeZoneSidKey"] == "GMT"


def test_organization_cannot_be_created_or_deleted(sf: RunningSalesforce) -> None:
    token = sf.token()
    org = _org(sf, token)
    created = sf.api("POST", "/sobjects/Organization", token, json={"Name": "x"})
    deleted = sf.api("DELETE", f"/sobjects/Organization/{org['Id']}", token)
    assert (created.status_code, deleted.status_code) == (405, 405)
    assert created.json()[0]["errorCode"] == deleted.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"


def test_division_can_be_created_and_deactivated_but_not_deleted(sf: RunningSalesforce) -> None:
    token = sf.token()
    created = sf.api("POST", "/sobjects/Division", token, json={"Name": "LATAM", "SortOrder": 7})
    division_id = created.json()["id"]
    assert division_id.startswith("02d")
    patch = sf.api("PATCH", f"/sobjects/Division/{division_id}", token, json={"IsActive": False})
    assert patch.status_code == 204
    assert sf.api("DELETE", f"/sobjects/Division/{division_id}", token).status_code == 405
    collection = sf.api("DELETE", "/composite/sobjects", token, params={"ids": division_id})
    assert collection.json()[0]["errors"][0]["statusCode"] == "INVALID_TYPE_FOR_OPERATION"
    row = sf.api("GET", f"/sobjects/Division/{division_id}", token).json()
    assert (row["IsActive"], row["IsGlobalDivision"], row["SortOrder"]) == (False, False, 7)


def test_one_global_division_always_exists(sf: RunningSalesforce) -> None:
    query = "SELECT Name FROM Division WHERE IsGlobalDivision = true"
    rows = sf.api("GET", "/query", sf.token(), params={"q": query}).json()
    assert [r["Name"] for r in rows["records"]] == ["Global"]


def test_bookkeeping_fields_follow_the_authenticated_user(sf: RunningSalesforce) -> None:
    admin, alice = sf.token(), sf.alice_token()
    users = sf.api("GET", "/query", admin, params={"q": "SELECT Id, Username FROM User"}).json()
    by_name = {u["Username"]: u["Id"] for u in users["records"]}
    task_id = sf.api("POST", "/sobjects/Task", admin, json={"Subject": "x"}).json()["id"]
    sf.api("PATCH", f"/sobjects/Task/{task_id}", alice, json={"Priority": "High"})
    task = sf.api("GET", f"/sobjects/Task/{task_id}", admin).json()
    assert task["CreatedById"] == by_name["admin@sfpms.local"]
    assert task["OwnerId"] == by_name["admin@sfpms.local"]
    assert task["LastModifiedById"] == by_name["alice@sfpms.local"]
    assert task["IsHighPriority"] is True
    assert task["SystemModstamp"] == task["LastModifiedDate"] >= task["CreatedDate"]


def test_reopening_a_task_clears_completed_datetime(sf: RunningSalesforce) -> None:
    token = sf.token()
    task_id = sf.api("POST", "/sobjects/Task", token, json={"Status": "Completed"}).json()["id"]
    closed = sf.api("GET", f"/sobjects/Task/{task_id}", token).json()
    sf.api("PATCH", f"/sobjects/Task/{task_id}", token, json={"Status": "In Progress"})
    reopened = sf.api("GET", f"/sobjects/Task/{task_id}", token).json()
    assert closed["CompletedDateTime"] is not None and closed["IsClosed"] is True
    assert reopened["CompletedDateTime"] is None and reopened["IsClosed"] is False


def test_owner_must_be_an_existing_user_id(sf: RunningSalesforce) -> None:
    token = sf.token()
    malformed = sf.api("POST", "/sobjects/Task", token, json={"OwnerId": "not-an-id"})
    wrong_type = sf.api("POST", "/sobjects/Task", token, json={"OwnerId": "02d5e0000000001"})
    unknown = sf.api("POST", "/sobjects/Task", token, json={"OwnerId": "0055e00000ZZZZZ"})
    assert malformed.json()[0]["errorCode"] == "MALFORMED_ID"
    assert wrong_type.json()[0]["errorCode"] == "MALFORMED_ID"
    assert unknown.json()[0]["errorCode"] == "INVALID_CROSS_REFERENCE_KEY"
    assert unknown.json()[0]["fields"] == ["OwnerId"]


def test_unknown_field_in_body_is_invalid_field(sf: RunningSalesforce) -> None:
    response = sf.api("POST", "/sobjects/Task", sf.token(), json={"Bogus__c": 1})
    assert response.status_code == 400 and response.json()[0]["errorCode"] == "INVALID_FIELD"


def test_wrong_json_type_and_broken_json_are_json_parser_errors(sf: RunningSalesforce) -> None:
    token = sf.token()
    bad_date = sf.api("POST", "/sobjects/Task", token, json={"ActivityDate": "next week"})
    broken = sf.api(
        "POST", "/sobjects/Task", token, data="{oops", headers={"Content-Type": "application/json"}
    )
    assert bad_date.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert broken.status_code == 400 and broken.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_field_names_in_bodies_are_case_insensitive(sf: RunningSalesforce) -> None:
    token = sf.token()
    task_id = sf.api("POST", "/sobjects/Task", token, json={"subject": "lower"}).json()["id"]
    assert sf.api("GET", f"/sobjects/Task/{task_id}", token).json()["Subject"] == "lower"


def test_empty_string_is_stored_as_null(sf: RunningSalesforce) -> None:
    token = sf.token()
    task_id = sf.api("POST", "/sobjects/Task", token, json={"Subject": "a"}).json()["id"]
    sf.api("PATCH", f"/sobjects/Task/{task_id}", token, json={"Subject": ""})
    assert sf.api("GET", f"/sobjects/Task/{task_id}", token).json()["Subject"] is None


def test_deleted_record_cannot_be_updated_or_deleted_again(sf: RunningSalesforce) -> None:
    token = sf.token()
    task_id = sf.api("POST", "/sobjects/Task", token, json={"Subject": "a"}).json()["id"]
    sf.api("DELETE", f"/sobjects/Task/{task_id}", token)
    patch = sf.api("PATCH", f"/sobjects/Task/{task_id}", token, json={"Subject": "b"})
    again = sf.api("DELETE", f"/sobjects/Task/{task_id}", token)
    assert (patch.status_code, again.status_code) == (404, 404)
    assert patch.json()[0]["errorCode"] == again.json()[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_upsert_body_must_not_repeat_the_external_id(sf: RunningSalesforce) -> None:
    response = sf.api(
        "PATCH", "/sobjects/Task/Custompms_Id__c/x1", sf.token(), json={"Custompms_Id__c": "x1"}
    )
    assert response.status_code == 400 and response.json()[0]["errorCode"] == "INVALID_FIELD"


def test_users_are_queryable_describable_and_gettable(sf: RunningSalesforce) -> None:
    token = sf.token()
    query = "SELECT Id, Username, Name, Email, IsActive FROM User ORDER BY Username"
    users = sf.api("GET", "/query", token, params={"q": query}).json()["records"]
    assert [u["Username"] for u in users] == ["admin@sfpms.local", "alice@sfpms.local"]
    alice = sf.api("GET", f"/sobjects/User/{users[1]['Id']}", token).json()
    assert (alice["Name"], alice["IsActive"]) == ("Alice Example", True)
    described = sf.api("GET", "/sobjects/User/describe", token).json()
    assert described["keyPrefix"] == "005" and described["createable"] is False


def test_versions_resources_and_limits(sf: RunningSalesforce) -> None:
    versions = sf.http.get(f"{sf.url}/services/data/").json()
    assert versions[-1] == {"label": "Spring '24", "url": "/services/data/v60.0", "version": "60.0"}
    token = sf.token()
    resources = sf.http.get(
        f"{sf.url}/services/data/v60.0/", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert resources["query"] == "/services/data/v60.0/query"
    limits = sf.api("GET", "/limits", token)
    assert limits.json()["DailyApiRequests"] == {"Max": 100_000, "Remaining": 100_000 - 2}
    assert limits.headers["Sforce-Limit-Info"] == "api-usage=2/100000"
    unknown = sf.http.get(
        f"{sf.url}/services/data/v99.0/limits", headers={"Authorization": f"Bearer {token}"}
    )
    assert unknown.status_code == 404 and unknown.json()[0]["errorCode"] == "NOT_FOUND"


def test_records_and_sessions_survive_a_restart(start_sf: StartSf, tmp_path: Path) -> None:
    db = tmp_path / "salesforce.db"
    with start_sf(db_path=db) as first:
        token = first.token()
        task_id = first.api("POST", "/sobjects/Task", token, json={"Subject": "durable"}).json()[
            "id"
        ]
    with start_sf(db_path=db) as second:
        task = second.api("GET", f"/sobjects/Task/{task_id}", token)
        assert task.status_code == 200 and task.json()["Subject"] == "durable"
        new_id = second.api("POST", "/sobjects/Task", token, json={"Subject": "next"}).json()["id"]
        assert new_id > task_id


def _seeded_subjects(sf: RunningSalesforce) -> list[str]:
    query = "SELECT Subject, Status, Priority FROM Task ORDER BY Id"
    rows = sf.api("GET", "/query", sf.token(), params={"q": query}).json()["records"]
    return [f"{r['Subject']}|{r['Status']}|{r['Priority']}" for r in rows]


def test_seeded_emulator_has_demo_divisions_and_tasks_made_by_a_human(start_sf: StartSf) -> None:
    with start_sf(seed=True) as sf:
        token = sf.token()
        tasks = sf.api("GET", "/query", token, params={"q": "SELECT COUNT() FROM Task"}).json()
        divisions = sf.api("GET", "/query", token, params={"q": "SELECT Name FROM Division"})
        assert tasks["totalSize"] == 300
        assert len(divisions.json()["records"]) == 4
        closed = sf.api(
            "GET", "/query", token, params={"q": "SELECT COUNT() FROM Task WHERE IsClosed = true"}
        ).json()["totalSize"]
        assert 0 < closed < 300
        by_alice = "SELECT COUNT() FROM Task WHERE LastModifiedBy.Username = 'alice@sfpms.local'"
        assert sf.api("GET", "/query", token, params={"q": by_alice}).json()["totalSize"] == 300
        first = _seeded_subjects(sf)
    with start_sf(seed=True) as again:
        assert _seeded_subjects(again) == first
