"""sObject Get Updated / Get Deleted: the replication API, with its window rules.

- the API ignores the seconds of `start` and `end` (12:30:15 means 12:30:00);
- `start` must be before `end` (Get Deleted: by more than one minute), else
  INVALID_REPLICATION_DATE;
- Get Updated looks back at most 30 days; Get Deleted at most 15 days, and not before the
  last recycle-bin purge (`earliestDateAvailable`); earlier starts are INVALID_REPLICATION_DATE;
- `latestDateCovered` is `end`, or now when `end` is in the future: later changes may
  still be in flight, so the next window should start there (the emulator commits
  atomically, so "now" is safe; Salesforce may report an earlier time).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request

from emulators.salesforce import timefmt
from emulators.salesforce.context import (
    DATA_ROUTE,
    authenticate,
    check_version,
    emulator,
    sobject_or_404,
)
from emulators.salesforce.errors import ApiError

router = APIRouter(prefix=DATA_ROUTE)

UPDATED_WINDOW = timedelta(days=30)
DELETED_WINDOW = timedelta(days=15)


def _bad(message: str) -> ApiError:
    return ApiError.one(400, "INVALID_REPLICATION_DATE", message)


def _window(start: str | None, end: str | None) -> tuple[datetime, datetime, datetime]:
    """(start, end, latestDateCovered), seconds dropped."""
    if not start or not end:
        raise ApiError.one(400, "MISSING_ARGUMENT", "start and end are both required")
    try:
        first = timefmt.floor_minute(timefmt.parse_datetime(start))
        last = timefmt.floor_minute(timefmt.parse_datetime(end))
    except ValueError as exc:
        raise _bad(f"start and end must be ISO 8601 dateTime values: {exc}") from exc
    return first, last, min(last, timefmt.now())


def _route(path: str) -> Any:
    def decorator(func: Any) -> Any:
        router.add_api_route(path, func, methods=["GET"])
        router.add_api_route(path + "/", func, methods=["GET"], include_in_schema=False)
        return func

    return decorator


@_route("/sobjects/{sobject}/updated")
def updated(
    request: Request, version: str, sobject: str, start: str | None = None, end: str | None = None
) -> dict[str, Any]:
    check_version(version)
    authenticate(request)
    obj = sobject_or_404(request, sobject)
    first, last, covered = _window(start, end)
    if first >= last:
        raise _bad("startDate must chronologically precede endDate")
    if first < timefmt.floor_minute(timefmt.now()) - UPDATED_WINDOW:
        raise _bad("startDate cannot be more than 30 days ago")
    found = [
        r["Id"]
        for r in emulator(request).store.snapshot(obj)
        if first <= r["SystemModstamp"] < covered
    ]
    return {"ids": sorted(found), "latestDateCovered": timefmt.format_datetime(covered)}


@_route("/sobjects/{sobject}/deleted")
def deleted(
    request: Request, version: str, sobject: str, start: str | None = None, end: str | None = None
) -> dict[str, Any]:
    check_version(version)
    authenticate(request)
    obj = sobject_or_404(request, sobject)
    first, last, covered = _window(start, end)
    if last - first <= timedelta(minutes=1):
        raise _bad("startDate must chronologically precede endDate by more than one minute")
    store = emulator(request).store
    earliest = timefmt.floor_minute(timefmt.now()) - DELETED_WINDOW
    purged = store.purged_at()
    if purged is not None and purged > earliest:
        earliest = purged
    if first < earliest:
        raise _bad(
            "startDate is before earliestDateAvailable "
            f"{timefmt.format_datetime(earliest)}; the recycle bin was purged, resync the object"
        )
    records = [
        {"id": r["Id"], "deletedDate": timefmt.format_datetime(r["SystemModstamp"])}
        for r in store.snapshot(obj, include_deleted=True)
        if r.get("IsDeleted") and first <= r["SystemModstamp"] < covered
    ]
    records.sort(key=lambda d: (d["deletedDate"], d["id"]))
    return {
        "deletedRecords": records,
        "earliestDateAvailable": timefmt.format_datetime(earliest),
        "latestDateCovered": timefmt.format_datetime(covered),
    }
