"""SOQL over REST: /query and /queryAll, paged through nextRecordsUrl locators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from emulators.salesforce import soql
from emulators.salesforce.context import (
    DATA_ROUTE,
    Emulator,
    authenticate,
    check_version,
    data_path,
    emulator,
    record_url,
)
from emulators.salesforce.errors import ApiError

router = APIRouter(prefix=DATA_ROUTE)

MIN_BATCH = 200


def _batch_size(request: Request, default: int) -> int:
    """`Sforce-Query-Options: batchSize=N` (200..2000); Salesforce treats it as a hint."""
    header = request.headers.get("sforce-query-options", "")
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "batchsize" and value.strip().isdigit():
            return max(MIN_BATCH, min(default, int(value)))
    return default


def _run(state: Emulator, version: str, text: str, include_deleted: bool) -> soql.QueryResult:
    try:
        query = soql.parse(text)
        return soql.execute(
            query,
            lambda obj: state.store.snapshot(obj, include_deleted=include_deleted),
            state.store.lookup,
            lambda sobject, record_id: record_url(version, sobject, record_id),
            state.store.catalog.find,
        )
    except soql.SoqlError as exc:
        raise ApiError.one(400, exc.code, exc.message) from exc


def _page(
    state: Emulator, version: str, kind: str, locator: str, start: int, size: int
) -> dict[str, Any]:
    found = state.cursors.page(locator, start, size)
    if found is None:
        raise ApiError.one(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    records, more, total = found
    body: dict[str, Any] = {"totalSize": total, "done": not more}
    if more:
        body["nextRecordsUrl"] = f"{data_path(version)}/{kind}/{locator}-{start + size}"
    body["records"] = records
    return body


async def _query(request: Request, version: str, q: str | None, include_deleted: bool) -> Any:
    version = check_version(version)
    authenticate(request)
    if q is None:
        raise ApiError.one(400, "MALFORMED_QUERY", "A query string is required (parameter q)")
    state = emulator(request)
    result = await run_in_threadpool(_run, state, version, q, include_deleted)
    size = _batch_size(request, state.config.query_batch_size)
    if len(result.records) <= size:
        return {"totalSize": result.total_size, "done": True, "records": result.records}
    locator = state.cursors.open(result.records)
    return _page(state, version, "queryAll" if include_deleted else "query", locator, 0, size)


async def _more(request: Request, version: str, kind: str, cursor: str) -> Any:
    version = check_version(version)
    authenticate(request)
    state = emulator(request)
    locator, _, offset = cursor.rpartition("-")
    if not locator or not offset.isdigit():
        raise ApiError.one(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    size = _batch_size(request, state.config.query_batch_size)
    return _page(state, version, kind, locator, int(offset), size)


@router.get("/query")
@router.get("/query/", include_in_schema=False)
async def query(request: Request, version: str, q: str | None = None) -> Any:
    return await _query(request, version, q, include_deleted=False)


@router.get("/queryAll")
@router.get("/queryAll/", include_in_schema=False)
async def query_all(request: Request, version: str, q: str | None = None) -> Any:
    return await _query(request, version, q, include_deleted=True)


@router.get("/query/{cursor}")
async def query_more(request: Request, version: str, cursor: str) -> Any:
    return await _more(request, version, "query", cursor)


@router.get("/queryAll/{cursor}")
async def query_all_more(request: Request, version: str, cursor: str) -> Any:
    return await _more(request, version, "queryAll", cursor)
