"""Versions, the resource directory and limits."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from emulators.salesforce.config import SUPPORTED_VERSIONS
from emulators.salesforce.context import (
    DATA_ROUTE,
    authenticate,
    check_version,
    data_path,
    emulator,
)

#: Routes under /services/data/{version}.
router = APIRouter(prefix=DATA_ROUTE)
#: /services/data and the resource directory /services/data/{version}.
versions_router = APIRouter()

_RELEASES = {"58.0": "Summer '23", "59.0": "Winter '24", "60.0": "Spring '24"}


@versions_router.get("/services/data")
@versions_router.get("/services/data/", include_in_schema=False)
def versions() -> list[dict[str, str]]:
    """The API versions, oldest first (no authentication needed, as on Salesforce)."""
    return [
        {"label": _RELEASES.get(v, f"API {v}"), "url": data_path(v), "version": v}
        for v in SUPPORTED_VERSIONS
    ]


@versions_router.get("/services/data/{version}")
@versions_router.get("/services/data/{version}/", include_in_schema=False)
def resources(request: Request, version: str) -> dict[str, str]:
    base = data_path(check_version(version))
    authenticate(request)
    names = ("sobjects", "query", "queryAll", "composite", "jobs", "limits")
    return {name: f"{base}/{name}" for name in names}


@router.get("/limits")
@router.get("/limits/", include_in_schema=False)
def limits(request: Request, version: str) -> dict[str, Any]:
    check_version(version)
    authenticate(request)
    state = emulator(request)
    return {
        "DailyApiRequests": state.limits.snapshot(),
        "DailyBulkV2QueryJobs": state.bulk_limits.snapshot(),
    }
