"""Bulk API 2.0 query jobs on the emulator: raw REST, simple-salesforce's bulk2, our client."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.salesforce import PollPolicy, SalesforceApiError, SalesforceClient
from tests.integration.salesforce.support import RunningSalesforce

pytestmark = pytest.mark.integration

JOBS = "/jobs/query"
Starter = Callable[..., AbstractContextManager[RunningSalesforce]]


@pytest.fixture
def bulk_sf(start_sf: Starter) -> Iterator[RunningSalesforce]:
    """An emulator whose query jobs take 0.4 s (0.2 s UploadComplete, 0.2 s InProgress)."""
    with start_sf(bulk_job_delay_s=0.4) as running:
        yield running


def _create(sf: RunningSalesforce, token: str, soql: str, **extra: Any) -> requests.Response:
    return sf.api("POST", JOBS, token, json={"operation": "query", "query": soql, **extra})


def _wait_complete(sf: RunningSalesforce, token: str, job_id: str) -> dict[str, Any]:
    for _ in range(100):
        info: dict[str, Any] = sf.api("GET", f"{JOBS}/{job_id}", token).json()
        if info["state"] not in ("UploadComplete", "InProgress"):
            return info
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never finished")


def _rows(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def test_a_query_job_moves_through_its_states_and_serves_csv_pages_by_locator(
    bulk_sf: RunningSalesforce,
) -> None:
    sf = bulk_sf
    subjects = [f'Call {n:02d}, "urgent"' for n in range(25)]
    sf.bulk("Task", [{"Subject": s, "Description": None} for s in subjects])
    token = sf.token()
    created = _create(
        sf,
        token,
        "SELECT Id, Subject, Description, IsClosed, CreatedDate, "
        "Owner.Name FROM Task ORDER BY Subject",
    )
    assert created.status_code == 200
    job = created.json()
    assert job["id"].startswith("750") and job["state"] == "UploadComplete"
    assert (job["operation"], job["object"], job["contentType"]) == ("query", "Task", "CSV")
    assert job["apiVersion"] == 60.0 and job["columnDelimiter"] == "COMMA"
    time.sleep(0.25)
    assert sf.api("GET", f"{JOBS}/{job['id']}", token).json()["state"] == "InProgress"
    info = _wait_complete(sf, token, job["id"])
    assert info["state"] == "JobComplete" and info["numberRecordsProcessed"] == 25
    assert info["jobType"] == "V2Query"

    pages: list[requests.Response] = []
    locator = None
    for _ in range(10):
        params: dict[str, Any] = {"maxRecords": 10}
        if locator:
            params["locator"] = locator
        page = sf.api("GET", f"{JOBS}/{job['id']}/results", token, params=params)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/csv")
        pages.append(page)
        locator = page.headers["Sforce-Locator"]
        if locator == "null":
            break
    assert [p.headers["Sforce-NumberOfRecords"] for p in pages] == ["10", "10", "5"]
    first = pages[0].text
    assert (
        first.splitlines()[0]
        == '"Id","Subject","Description","IsClosed","CreatedDate","Owner.Name"'
    )
    assert '"Call 00, ""urgent"""' in first  # quotes doubled, every value quoted
    rows = [row for p in pages for row in _rows(p.text)[1:]]
    assert [r[1] for r in rows] == sorted(subjects)
    assert {r[2] for r in rows} == {""} and {r[3] for r in rows} == {"false"}
    assert rows[0][4].endswith("Z") and len(rows[0][4]) == len("2026-11-25T23:08:24.000Z")
    assert {r[5] for r in rows} == {"SFPMS Integration"}
    again = sf.api(
        "GET",
        f"{JOBS}/{job['id']}/results",
        token,
        params={
            "maxRecords": 10,
            "locator": pages[0].headers["Sforce-Locator"],
        },
    )
    assert again.text == pages[1].text  # a locator can be read again


def test_column_delimiter_and_line_ending_are_the_jobs(bulk_sf: RunningSalesforce) -> None:
    bulk_sf.bulk("Task", [{"Subject": "a|b"}, {"Subject": "c"}])
    token = bulk_sf.token()
    job = _create(
        bulk_sf,
        token,
        "SELECT Subject FROM Task ORDER BY Subject",
        columnDelimiter="PIPE",
        lineEnding="CRLF",
    ).json()
    _wait_complete(bulk_sf, token, job["id"])
    text = bulk_sf.api("GET", f"{JOBS}/{job['id']}/results", token).text
    assert text == '"Subject"\r\n"a|b"\r\n"c"\r\n'


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT COUNT() FROM Task", "API_ERROR"),
        ("SELECT Id FROM Task OFFSET 5", "API_ERROR"),
        ("SELECT Status FROM Task GROUP BY Status", "API_ERROR"),
        ("SELECT Id, (SELECT Id FROM Tasks) FROM User", "API_ERROR"),
        ("SELECT FIELDS(ALL) FROM Task", "API_ERROR"),
        ("SELECT Id FROM Task WHERE", "MALFORMED_QUERY"),
        ("SELECT Nope FROM Task", "INVALID_FIELD"),
        ("SELECT Id FROM Nope__c", "INVALID_TYPE"),
    ],
)
def test_soql_bulk_queries_refuse_is_refused_at_creation(
    sf: RunningSalesforce, soql: str, code: str
) -> None:
    response = _create(sf, sf.token(), soql)
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == code


def test_aborting_deleting_and_reading_results_follow_the_job_state(
    start_sf: Starter,
) -> None:
    with start_sf(bulk_job_delay_s=30) as sf:
        token = sf.token()
        job_id = _create(sf, token, "SELECT Id FROM Task").json()["id"]
        early = sf.api("GET", f"{JOBS}/{job_id}/results", token)
        assert early.status_code == 400 and early.json()[0]["errorCode"] == "API_ERROR"
        refused = sf.api("DELETE", f"{JOBS}/{job_id}", token)
        assert refused.status_code == 400
        assert refused.json()[0]["message"] == (
            "Error encountered when deleting the job because the job is not terminated"
        )
        aborted = sf.api("PATCH", f"{JOBS}/{job_id}", token, json={"state": "Aborted"})
        assert aborted.status_code == 200 and aborted.json()["state"] == "Aborted"
        again = sf.api("PATCH", f"{JOBS}/{job_id}", token, json={"state": "Aborted"})
        assert again.status_code == 400 and again.json()[0]["errorCode"] == "API_ERROR"
        assert sf.api("DELETE", f"{JOBS}/{job_id}", token).status_code == 204
        gone = sf.api("GET", f"{JOBS}/{job_id}", token)
        assert gone.status_code == 404 and gone.json()[0]["errorCode"] == "NOT_FOUND"


def test_results_must_be_read_with_the_api_version_that_created_the_job(
    bulk_sf: RunningSalesforce,
) -> None:
    token = bulk_sf.token()
    job_id = _create(bulk_sf, token, "SELECT Id FROM Task").json()["id"]
    _wait_complete(bulk_sf, token, job_id)
    other = bulk_sf.http.get(
        f"{bulk_sf.url}/services/data/v59.0{JOBS}/{job_id}/results",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert other.status_code == 409


def test_the_job_list_shows_every_job(bulk_sf: RunningSalesforce) -> None:
    token = bulk_sf.token()
    ids = [_create(bulk_sf, token, "SELECT Id FROM Task").json()["id"] for _ in range(3)]
    listing = bulk_sf.api("GET", JOBS, token).json()
    assert listing["done"] is True and listing["nextRecordsUrl"] is None
    assert [j["id"] for j in listing["records"]] == ids


def test_every_jobs_call_and_every_results_page_counts_toward_the_api_limit(
    bulk_sf: RunningSalesforce,
) -> None:
    bulk_sf.bulk("Task", [{"Subject": f"t{n}"} for n in range(30)])
    token = bulk_sf.token()
    usage = lambda response: int(response.headers["Sforce-Limit-Info"].split("=")[1].split("/")[0])  # noqa: E731
    created = _create(bulk_sf, token, "SELECT Id FROM Task")
    before = usage(created)
    _wait_complete(bulk_sf, token, created.json()["id"])
    url = f"{JOBS}/{created.json()['id']}/results"
    first = bulk_sf.api("GET", url, token, params={"maxRecords": 20})
    second = bulk_sf.api(
        "GET", url, token, params={"maxRecords": 20, "locator": first.headers["Sforce-Locator"]}
    )
    assert second.headers["Sforce-Locator"] == "null"
    assert usage(second) == usage(first) + 1 and usage(first) > before
    limits = bulk_sf.api("GET", "/limits", token).json()
    assert limits["DailyBulkV2QueryJobs"] == {"Max": 10_000, "Remaining": 9_999}


def test_simple_salesforce_bulk2_query_and_download_work_unchanged(
    bulk_sf: RunningSalesforce, tmp_path: Path
) -> None:
    ids = bulk_sf.bulk("Task", [{"Subject": f"bulk {n:03d}"} for n in range(120)])
    client = bulk_sf.simple()
    client.Task.delete(ids[0])
    pages = list(client.bulk2.Task.query("SELECT Id, Subject FROM Task", max_records=50, wait=0.1))
    assert len(pages) == 3
    subjects = sorted(row["Subject"] for page in pages for row in csv.DictReader(io.StringIO(page)))
    assert subjects == [f"bulk {n:03d}" for n in range(1, 120)]
    with_deleted = list(
        client.bulk2.Task.query_all("SELECT Id FROM Task WHERE IsDeleted = true", wait=0.1)
    )
    assert [r["Id"] for r in csv.DictReader(io.StringIO(with_deleted[0]))] == [ids[0]]
    files = client.bulk2.Task.download(
        "SELECT Id FROM Task", str(tmp_path), max_records=100, wait=0.1
    )
    assert [f["number_of_records"] for f in files] == [100, 19]
    assert all(Path(f["file"]).read_text().startswith('"Id"') for f in files)


async def test_the_client_streams_typed_records_and_deletes_the_job(
    bulk_sf: RunningSalesforce,
) -> None:
    bulk_sf.bulk(
        "Task", [{"Subject": f"s{n:03d}", "ActivityDate": "2026-12-01"} for n in range(45)]
    )
    settings = bulk_sf.settings()
    async with SalesforceClient(settings) as salesforce:
        records = [
            r
            async for r in salesforce.bulk_query(
                "SELECT Id, Subject, ActivityDate, IsClosed, CreatedDate, Description FROM Task",
                max_records=20,
                poll=PollPolicy(first=0.05, ceiling=0.1, timeout=10),
            )
        ]
        usage = salesforce.api_usage
    assert len(records) == 45
    sample = records[0]
    assert sample["IsClosed"] is False and sample["Description"] is None
    assert sample["ActivityDate"].isoformat() == "2026-12-01"
    assert sample["CreatedDate"].tzinfo is not None
    assert usage is not None and usage.used > 0 and usage.limit == 100_000
    listing = bulk_sf.api("GET", JOBS, bulk_sf.token()).json()
    assert listing["records"] == []  # deleted once read


async def test_the_client_reports_a_refused_bulk_query_as_a_fatal_error(
    bulk_sf: RunningSalesforce,
) -> None:
    async with SalesforceClient(bulk_sf.settings()) as salesforce:
        with pytest.raises(SalesforceApiError) as raised:
            async for _ in salesforce.bulk_query("SELECT COUNT() FROM Task"):
                pass
    assert raised.value.error_code == "API_ERROR" and raised.value.status == 400
