"""sObject Collections upsert, row-lock faults and apply-then-drop faults on the emulator."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import requests

from connectors.salesforce import RetryPolicy, SalesforceClient, SalesforceRetriableError
from tests.integration.salesforce.support import RunningSalesforce

pytestmark = pytest.mark.integration

UPSERT = "/composite/sobjects/Task/Custompms_Id__c"


def _task(key: str | None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"attributes": {"type": "Task"}, **fields}
    if key is not None:
        body["Custompms_Id__c"] = key
    return body


def _upsert(sf: RunningSalesforce, token: str, records: list[Any], **extra: Any) -> Any:
    response = sf.api("PATCH", UPSERT, token, json={"records": records, **extra})
    return response


def _subjects(sf: RunningSalesforce, token: str) -> dict[str, str]:
    rows = sf.api(
        "GET", "/query", token, params={"q": "SELECT Subject, Custompms_Id__c FROM Task"}
    ).json()["records"]
    return {r["Custompms_Id__c"]: r["Subject"] for r in rows}


def test_upsert_creates_unknown_keys_and_updates_known_ones(sf: RunningSalesforce) -> None:
    token = sf.token()
    first = _upsert(sf, token, [_task("k1", Subject="one"), _task("k2", Subject="two")])
    assert first.status_code == 200
    created = first.json()
    assert [(r["success"], r["created"], r["errors"]) for r in created] == [
        (True, True, []),
        (True, True, []),
    ]
    second = _upsert(sf, token, [_task("K1", Subject="one again"), _task("k3", Subject="3")])
    results = second.json()
    assert results[0] == {"id": created[0]["id"], "success": True, "errors": [], "created": False}
    assert results[1]["created"] is True
    # Matching ignores case; the value sent is written, as any field of the body.
    assert _subjects(sf, token) == {"K1": "one again", "k2": "two", "k3": "3"}


def test_per_record_errors_use_salesforce_codes(sf: RunningSalesforce) -> None:
    token = sf.token()
    sf.bulk("Task", [{"Subject": "a", "Custompms_Id__c": "twin"}] * 2)
    results = _upsert(
        sf,
        token,
        [
            _task("twin", Subject="ambiguous"),
            _task("dup", Subject="x"),
            _task("dup", Subject="y"),
            _task(None, Subject="no key"),
            _task("long", Subject="x" * 300),
            {"Subject": "no attributes", "Custompms_Id__c": "n"},
            _task("ok", Subject="fine"),
        ],
    ).json()
    codes = [r["errors"][0]["statusCode"] if r["errors"] else None for r in results]
    assert codes == [
        "DUPLICATE_EXTERNAL_ID",
        "DUPLICATE_EXTERNAL_ID",
        "DUPLICATE_EXTERNAL_ID",
        "MISSING_ARGUMENT",
        "STRING_TOO_LONG",
        "INVALID_TYPE",
        None,
    ]
    assert "more than one record found for external id field" in results[0]["errors"][0]["message"]
    assert results[1]["errors"][0]["message"] == "Duplicate external id specified: dup"
    assert results[6]["success"] is True and results[6]["created"] is True


def test_all_or_none_rolls_back_every_record(sf: RunningSalesforce) -> None:
    token = sf.token()
    results = _upsert(
        sf, token, [_task("a1", Subject="ok"), _task("a2", Status="Someday")], allOrNone=True
    ).json()
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert _subjects(sf, token) == {}


def test_more_than_200_records_and_record_ids_are_refused(sf: RunningSalesforce) -> None:
    token = sf.token()
    too_many = _upsert(sf, token, [_task(f"k{n}") for n in range(201)])
    assert too_many.status_code == 400 and too_many.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    by_id = sf.api("PATCH", "/composite/sobjects/Task/Id", token, json={"records": []})
    assert by_id.status_code == 404 and by_id.json()[0]["errorCode"] == "NOT_FOUND"


async def test_the_client_upserts_in_chunks_of_200_with_typed_results(
    sf: RunningSalesforce,
) -> None:
    sf.admin("DELETE", "/stats")
    records = [{"Subject": f"s{n}", "Custompms_Id__c": f"c{n}"} for n in range(450)]
    async with SalesforceClient(sf.settings()) as salesforce:
        results = await salesforce.collections_upsert("Task", "Custompms_Id__c", records)
        again = await salesforce.collections_upsert("Task", "Custompms_Id__c", records[:3])
    assert len(results) == 450 and all(r.success and r.created for r in results)
    assert [r.created for r in again] == [False, False, False]
    assert again[0].id == results[0].id
    route = "PATCH /services/data/{version}/composite/sobjects/{sobject}/{field}"
    assert sf.admin("GET", "/stats")["requests"][route] == 4


def test_row_lock_faults_fail_single_records_with_unable_to_lock_row(
    sf: RunningSalesforce,
) -> None:
    token = sf.token()
    sf.admin("POST", "/faults", json={"record_lock_rate": 1.0, "seed": 1})
    results = _upsert(sf, token, [_task("l1", Subject="x"), _task("l2", Subject="y")]).json()
    assert [r["errors"][0]["statusCode"] for r in results] == ["UNABLE_TO_LOCK_ROW"] * 2
    created = sf.api(
        "POST", "/composite/sobjects", token, json={"records": [_task(None, Subject="z")]}
    ).json()
    assert created[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    assert sf.admin("GET", "/faults")["injected"]["record_lock"] == 3
    sf.admin("DELETE", "/faults")
    retried = _upsert(sf, token, [_task("l1", Subject="x"), _task("l2", Subject="y")]).json()
    assert all(r["success"] for r in retried)  # a retry after the lock clears succeeds


def test_a_dropped_response_after_apply_still_committed_the_write(sf: RunningSalesforce) -> None:
    token = sf.token()
    sf.admin(
        "POST",
        "/faults",
        json={"drop_after_apply_rate": 1.0, "path_prefixes": ["/services/data/v60.0/composite"]},
    )
    with pytest.raises(requests.exceptions.ChunkedEncodingError):  # status line, then nothing
        _upsert(sf, token, [_task("d1", Subject="applied")])
    assert sf.admin("GET", "/faults")["injected"]["drop_after_apply"] == 1
    sf.admin("DELETE", "/faults")
    assert _subjects(sf, token) == {"d1": "applied"}


async def test_the_client_reports_an_ambiguous_create_after_a_drop(sf: RunningSalesforce) -> None:
    sf.admin(
        "POST",
        "/faults",
        json={
            "drop_after_apply_rate": 1.0,
            "path_prefixes": ["/services/data/v60.0/sobjects/Task"],
        },
    )
    retry = RetryPolicy(max_attempts=2, base_delay_s=0.01, max_delay_s=0.02)
    async with SalesforceClient(sf.settings(), retry=retry) as salesforce:
        with pytest.raises(SalesforceRetriableError, match="may or may not have been applied"):
            await salesforce.create("Task", {"Subject": "ambiguous"})
    sf.admin("DELETE", "/faults")
    rows = sf.api("GET", "/query", sf.token(), params={"q": "SELECT Subject FROM Task"}).json()
    assert [r["Subject"] for r in rows["records"]] == ["ambiguous"]  # not retried: no twin


def test_custompms_drop_after_apply_commits_before_the_connection_drops() -> None:
    from tests.integration.custompms.support import running_emulator

    with running_emulator() as emulator:
        emulator.set_faults(drop_after_apply_rate=1.0, path_prefixes=["/api/v1/customers"])
        with emulator.http() as api:
            with pytest.raises(httpx.RemoteProtocolError):
                api.post("/customers", json={"name": "Acme"})
            emulator.clear_faults()
            names = [c["name"] for c in api.get("/customers").json()["items"]]
        assert names == ["Acme"]
