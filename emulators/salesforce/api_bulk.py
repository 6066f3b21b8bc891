"""Bulk API 2.0 query jobs over REST: create, poll, page through CSV results, abort, delete.

    POST   /services/data/vXX.X/jobs/query                      create (400 for refused SOQL)
    GET    /services/data/vXX.X/jobs/query                      all jobs (1,000 per page)
    GET    /services/data/vXX.X/jobs/query/{id}                 job info
    GET    /services/data/vXX.X/jobs/query/{id}/results         CSV page (?locator=&maxRecords=)
    PATCH  /services/data/vXX.X/jobs/query/{id}  {"state": "Aborted"}
    DELETE /services/data/vXX.X/jobs/query/{id}                 204

Every call is an API request and counts toward the daily limit; results come page by page
(`Sforce-Locator` names the next page, the text "null" after the last, and
`Sforce-NumberOfRecords` counts the page's records), so a large result costs one call per
page. Refusals use Bulk API 2.0's `[{"errorCode": "API_ERROR", "message"}]` shape.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from emulators.salesforce import soql, timefmt
from emulators.salesforce.bulk.csvfmt import DELIMITERS, LINE_ENDINGS, Column, render_page
from emulators.salesforce.bulk.jobs import (
    QueryJob,
    QueryJobs,
    Runner,
    decode_locator,
    encode_locator,
)
from emulators.salesforce.bulk.restrictions import bulk_refusal
from emulators.salesforce.context import (
    DATA_ROUTE,
    authenticate,
    check_version,
    data_path,
    emulator,
    read_json,
    record_url,
)
from emulators.salesforce.errors import ApiError, not_found
from emulators.salesforce.soql.evaluate import select_columns
from emulators.salesforce.store import Store

router = APIRouter(prefix=DATA_ROUTE)

LIST_PAGE = 1000
JOB_PREFIX = "750"


def _refused(message: str, status: int = 400) -> ApiError:
    return ApiError.one(status, "API_ERROR", message)


def query_runner(store: Store) -> Runner:
    """Runs a job's SOQL against `store` (live records, or all for queryAll)."""

    def run(job: QueryJob) -> tuple[list[Column], list[dict[str, Any]]]:
        query = soql.parse(job.query)
        include_deleted = job.operation == "queryAll"
        result = soql.execute(
            query,
            lambda obj: store.snapshot(obj, include_deleted=include_deleted),
            store.lookup,
            lambda sobject, record_id: record_url(job.api_version, sobject, record_id),
            store.catalog.find,
        )
        return select_columns(query, store.catalog.find), result.records

    return run


def _choice(body: dict[str, Any], key: str, allowed: Any, default: str) -> str:
    value = body.get(key, default)
    if value not in allowed:
        raise _refused(f"{key} must be one of {', '.join(allowed)}, not {value!r}")
    return str(value)


def _validated(request: Request, body: Any) -> tuple[str, str, str, str, str]:
    """(operation, query, sobject, delimiter, line ending) of a create request."""
    if not isinstance(body, dict):
        raise _refused("The request body must be a JSON object")
    operation = _choice(body, "operation", ("query", "queryAll"), "")
    text = body.get("query")
    if not isinstance(text, str) or not text.strip():
        raise _refused("query is required: the SOQL query to run")
    _choice(body, "contentType", ("CSV",), "CSV")
    delimiter = _choice(body, "columnDelimiter", tuple(DELIMITERS), "COMMA")
    line_ending = _choice(body, "lineEnding", tuple(LINE_ENDINGS), "LF")
    refusal = bulk_refusal(text)
    if refusal is not None:
        raise _refused(refusal)
    store = emulator(request).store
    try:
        query = soql.parse(text)
        # Bind fields and literals now (no records): bad SOQL fails the create, not the job.
        soql.execute(query, lambda obj: [], store.lookup, lambda s, i: "", store.catalog.find)
    except soql.SoqlError as exc:
        raise ApiError.one(400, exc.code, exc.message) from exc
    sobject = store.catalog.find(query.sobject)
    assert sobject is not None  # execute() refused unknown objects
    return operation, text, sobject.name, delimiter, line_ending


def _job(request: Request, job_id: str) -> QueryJob:
    job = jobs_of(request).get(job_id)
    if job is None:
        raise not_found()
    return job


def jobs_of(request: Request) -> QueryJobs:
    bulk: QueryJobs = emulator(request).bulk
    return bulk


@router.post("/jobs/query")
async def create_job(request: Request, version: str) -> dict[str, Any]:
    api_version = check_version(version)
    caller = authenticate(request)
    body = await read_json(request)
    operation, text, sobject, delimiter, line_ending = await run_in_threadpool(
        _validated, request, body
    )
    state = emulator(request)
    state.bulk_limits.consume()
    with state.store.lock:
        job_id = state.store.minter.mint(JOB_PREFIX)
    jobs = jobs_of(request)
    job = QueryJob(
        id=job_id,
        operation=operation,
        object=sobject,
        query=text,
        created_by=caller.user_id,
        created=timefmt.now(),
        api_version=api_version,
        column_delimiter=delimiter,
        line_ending=line_ending,
        started=jobs.now(),
        delay_s=state.config.bulk_job_delay_s,
    )
    return jobs.add(job).summary()


@router.get("/jobs/query")
def list_jobs(
    request: Request, version: str, queryLocator: str | None = None, jobType: str | None = None
) -> dict[str, Any]:
    check_version(version)
    authenticate(request)
    jobs = [j for j in jobs_of(request).all() if jobType in (None, "V2Query")]
    start = 0
    if queryLocator:
        decoded = decode_locator(queryLocator)
        if decoded is None or decoded > len(jobs):
            raise _refused("Invalid queryLocator")
        start = decoded
    page = jobs[start : start + LIST_PAGE]
    more = start + LIST_PAGE < len(jobs)
    next_url = (
        f"{data_path(check_version(version))}/jobs/query?queryLocator="
        f"{encode_locator(start + LIST_PAGE)}"
        if more
        else None
    )
    return {"done": not more, "records": [j.summary() for j in page], "nextRecordsUrl": next_url}


@router.get("/jobs/query/{job_id}")
def job_info(request: Request, version: str, job_id: str) -> dict[str, Any]:
    check_version(version)
    authenticate(request)
    return _job(request, job_id).info()


@router.get("/jobs/query/{job_id}/results")
def job_results(
    request: Request,
    version: str,
    job_id: str,
    locator: str | None = None,
    maxRecords: str | None = None,
) -> Response:
    api_version = check_version(version)
    authenticate(request)
    job = _job(request, job_id)
    if job.api_version != api_version:
        raise _refused(
            f"Get the results with the API version that created the job (v{job.api_version})",
            status=409,
        )
    if job.state != "JobComplete":
        raise _refused(
            f"Results are available once the job is JobComplete; it is {job.state}"
            + (f" ({job.error})" if job.error else "")
        )
    size = emulator(request).config.bulk_page_size
    if maxRecords is not None:
        if not maxRecords.isdigit() or int(maxRecords) < 1:
            raise _refused("maxRecords must be a positive whole number")
        size = int(maxRecords)
    start = 0
    if locator:
        decoded = decode_locator(locator)
        if decoded is None or decoded > len(job.rows):
            raise _refused(f"Invalid locator: {locator}")
        start = decoded
    page = job.rows[start : start + size]
    following = start + size
    body = render_page(
        job.columns, page, delimiter=job.column_delimiter, line_ending=job.line_ending
    )
    headers = {
        "Sforce-NumberOfRecords": str(len(page)),
        "Sforce-Locator": encode_locator(following) if following < len(job.rows) else "null",
    }
    return Response(body, media_type="text/csv", headers=headers)


@router.patch("/jobs/query/{job_id}")
async def abort_job(request: Request, version: str, job_id: str) -> dict[str, Any]:
    check_version(version)
    authenticate(request)
    body = await read_json(request)
    if not isinstance(body, dict) or body.get("state") != "Aborted":
        raise _refused('A query job can only be aborted: send {"state": "Aborted"}')
    job = _job(request, job_id)
    if not jobs_of(request).abort(job):
        raise _refused(f"Only UploadComplete or InProgress jobs can be aborted; it is {job.state}")
    return job.summary()


@router.delete("/jobs/query/{job_id}")
def delete_job(request: Request, version: str, job_id: str) -> Response:
    check_version(version)
    authenticate(request)
    job = _job(request, job_id)
    if not jobs_of(request).delete(job):
        raise _refused("Error encountered when deleting the job because the job is not terminated")
    return Response(status_code=204)
