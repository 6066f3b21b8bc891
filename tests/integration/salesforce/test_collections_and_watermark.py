from __future__ import annotations

from typing import Any

import pytest

from tests.integration.salesforce.support import RunningSalesforce

pytestmark = pytest.mark.integration


def _tasks(count: int, prefix: str = "t") -> list[dict[str, Any]]:
    return [{"attributes": {"type": "Task"}, "Subject": f"{prefix}{n}"} for n in range(count)]


def test_collection_create_returns_results_in_order(sf: RunningSalesforce) -> None:
    token = sf.token()
    records = _tasks(3)
    records[1]["Status"] = "Nope"
    results = sf.api("POST", "/composite/sobjects", token, json={"records": records}).json()
    assert [r["success"] for r in results] == [True, False, True]
    assert results[1]["errors"] == [
        {
            "statusCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "message": "Status: bad value for restricted picklist field: Nope",
            "fields": ["Status"],
        }
    ]
    assert "id" not in results[1]
    assert results[0]["id"] < results[2]["id"]
    assert (
        sf.api("GET", "/query", token, params={"q": "SELECT COUNT() FROM Task"}).json()["totalSize"]
        == 2
    )


def test_all_or_none_rolls_back_every_record(sf: RunningSalesforce) -> None:
    token = sf.token()
    records = _tasks(3)
    records[2]["Subject"] = "x" * 300
    body = {"allOrNone": True, "records": records}
    results = sf.api("POST", "/composite/sobjects", token, json=body).json()
    assert [r["success"] for r in results] == [False, False, False]
    assert [r["errors"][0]["statusCode"] for r in results] == [
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "STRING_TOO_LONG",
    ]
    count = sf.api("GET", "/query", token, params={"q": "SELECT COUNT() FROM Task"}).json()
    assert count["totalSize"] == 0


def test_more_than_200_records_are_refused(sf: RunningSalesforce) -> None:
    response = sf.api("POST", "/composite/sobjects", sf.token(), json={"records": _tasks(201)})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_exactly_200_records_are_accepted(sf: RunningSalesforce) -> None:
    results = sf.api("POST", "/composite/sobjects", sf.token(), json={"records": _tasks(200)})
    assert results.status_code == 200 and all(r["success"] for r in results.json())


def test_collection_update_and_delete(sf: RunningSalesforce) -> None:
    token = sf.token()
    ids = [
        r["id"]
        for r in sf.api("POST", "/composite/sobjects", token, json={"records": _tasks(2)}).json()
    ]
    updates = [
        {"attributes": {"type": "Task"}, "id": ids[0], "Priority": "High"},
        {"attributes": {"type": "Task"}, "Priority": "Low"},
    ]
    results = sf.api("PATCH", "/composite/sobjects", token, json={"records": updates}).json()
    assert results[0] == {"id": ids[0], "success": True, "errors": []}
    assert results[1]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    deleted = sf.api(
        "DELETE",
        "/composite/sobjects",
        token,
        params={"ids": f"{ids[1]},bogus", "allOrNone": "false"},
    ).json()
    assert deleted[0] == {"id": ids[1], "success": True, "errors": []}
    assert deleted[1]["errors"][0]["statusCode"] == "MALFORMED_ID"


def test_records_written_by_one_call_share_a_system_modstamp(sf: RunningSalesforce) -> None:
    token = sf.token()
    sf.api("POST", "/composite/sobjects", token, json={"records": _tasks(5)})
    rows = sf.api("GET", "/query", token, params={"q": "SELECT SystemModstamp FROM Task"}).json()
    assert len({r["SystemModstamp"] for r in rows["records"]}) == 1


def test_watermark_query_pages_through_records_sharing_a_modstamp(sf: RunningSalesforce) -> None:
    """The CDC's resumable scan: (SystemModstamp, Id) > watermark, in that order."""
    token = sf.token()
    for batch in range(3):
        sf.api("POST", "/composite/sobjects", token, json={"records": _tasks(4, f"b{batch}-")})
    seen: list[str] = []
    watermark: tuple[str, str] | None = None
    for _ in range(20):
        where = ""
        if watermark is not None:
            stamp = watermark[0].replace("+0000", "Z")
            where = (
                f"WHERE SystemModstamp > {stamp} "
                f"OR (SystemModstamp = {stamp} AND Id > '{watermark[1]}') "
            )
        # SOQL from server-issued values, not SQL.
        soql = f"SELECT Id, SystemModstamp FROM Task {where}ORDER BY SystemModstamp, Id LIMIT 5"  # noqa: S608
        rows = sf.api("GET", "/query", token, params={"q": soql}).json()["records"]
        if not rows:
            break
        seen.extend(r["Id"] for r in rows)
        watermark = (rows[-1]["SystemModstamp"], rows[-1]["Id"])
    everything = sf.api("GET", "/query", token, params={"q": "SELECT Id FROM Task"}).json()
    assert sorted(seen) == sorted(r["Id"] for r in everything["records"])
    assert len(seen) == len(set(seen)) == 12


def test_retrieve_collection_by_ids(sf: RunningSalesforce) -> None:
    token = sf.token()
    ids = [
        r["id"]
        for r in sf.api("POST", "/composite/sobjects", token, json={"records": _tasks(2)}).json()
    ]
    rows = sf.api(
        "GET",
        "/composite/sobjects/Task",
        token,
        params={"ids": f"{ids[1]},{ids[0]},00T5e00000ZZZZZ", "fields": "Subject"},
    ).json()
    assert [r and r["Subject"] for r in rows] == ["t1", "t0", None]


def test_retrieve_collection_by_request_body(sf: RunningSalesforce) -> None:
    token = sf.token()
    ids = [
        r["id"]
        for r in sf.api("POST", "/composite/sobjects", token, json={"records": _tasks(2)}).json()
    ]
    body = {"ids": [ids[1], ids[0], "00T5e00000ZZZZZ"], "fields": ["Subject", "SystemModstamp"]}
    rows = sf.api("POST", "/composite/sobjects/Task", token, json=body).json()
    assert [r and r["Subject"] for r in rows] == ["t1", "t0", None]
    assert rows[0]["SystemModstamp"]
    too_many = {"ids": [ids[0]] * 2001, "fields": ["Subject"]}
    refused = sf.api("POST", "/composite/sobjects/Task", token, json=too_many)
    assert refused.status_code == 400
    assert refused.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    missing = sf.api("POST", "/composite/sobjects/Task", token, json={"ids": ids})
    assert missing.status_code == 400
