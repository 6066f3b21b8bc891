"""Emulator-only routes under /__emulator__/ (never part of the Salesforce API).

Besides the shared faults/stats routes: expire tokens, add users, bulk-load records (which
may set read-only fields such as SystemModstamp), read the change log with each change's
`changeOrigin`, set, reset or age the API usage counter, add a picklist value (as an
administrator does in Setup), purge the recycle bin, reset data.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from emulators.common.faults import ADMIN_PREFIX
from emulators.salesforce.catalog import CatalogError
from emulators.salesforce.config import ALICE_USER
from emulators.salesforce.context import emulator
from emulators.salesforce.errors import ApiError
from emulators.salesforce.store import Caller, Op

router = APIRouter(prefix=ADMIN_PREFIX, include_in_schema=False)


class NewUser(BaseModel):
    username: str
    password: str
    first_name: str = ""
    last_name: str
    email: str | None = None


class BulkRecords(BaseModel):
    type: str
    records: list[dict[str, Any]]
    #: Username (or user id) the records are written as; default the integration user.
    as_user: str | None = None
    origin: str | None = "emulator-admin"


class LimitsUpdate(BaseModel):
    used: int | None = Field(None, ge=0)
    limit: int | None = Field(None, ge=0)


class LimitsAdvance(BaseModel):
    seconds: float = Field(ge=0)


class PicklistValue(BaseModel):
    sobject: str
    field: str
    value: str
    #: Make it the field's default value for new records.
    default: bool = False


class Reset(BaseModel):
    sobjects: list[str] = Field(default_factory=lambda: ["Task"])


@router.get("/info")
def info(request: Request) -> dict[str, Any]:
    state = emulator(request)
    return {
        "org_id": state.org_id,
        "admin_user_id": state.admin_user_id,
        "alice_user_id": state.accounts.user_id_for(ALICE_USER[0]),
        "api_usage": state.limits.snapshot(),
    }


@router.post("/expire-tokens")
def expire_tokens(request: Request) -> dict[str, int]:
    return {"expired": emulator(request).accounts.expire_all()}


@router.post("/users")
def add_user(request: Request, user: NewUser) -> dict[str, str]:
    state = emulator(request)
    user_id = state.accounts.add_user(
        user.username,
        user.password,
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        created_by=state.admin_user_id,
    )
    return {"id": user_id}


@router.post("/records")
async def bulk_records(request: Request, bulk: BulkRecords) -> dict[str, Any]:
    state = emulator(request)
    obj = state.store.catalog.find(bulk.type)
    if obj is None:
        raise ApiError.one(400, "INVALID_TYPE", f"sObject type '{bulk.type}' is not supported")
    user_id = state.admin_user_id
    if bulk.as_user:
        user_id = state.accounts.user_id_for(bulk.as_user) or bulk.as_user
    ops = [Op("create", obj.name, body=r) for r in bulk.records]
    results = await run_in_threadpool(
        state.store.apply, ops, Caller(user_id, bulk.origin), all_or_none=True, admin=True
    )
    failures = [
        {"index": n, "errors": [e.rest() for e in r.errors]}
        for n, r in enumerate(results)
        if not r.success and r.errors[0].code != "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    ]
    if failures:
        raise ApiError.one(400, "INVALID_INPUT", f"records rejected: {failures[:5]}")
    return {"ids": [r.id for r in results]}


@router.get("/changes")
def changes(
    request: Request, since: int = 0, sobject: str | None = None, origin: str | None = None
) -> dict[str, Any]:
    """The change log after sequence number `since`, optionally filtered."""
    store = emulator(request).store
    with store.lock:
        items = list(store.changes)
    selected = [
        c
        for c in items
        if c["seq"] > since
        and (sobject is None or c["sobject"].casefold() == sobject.casefold())
        and (origin is None or c["changeOrigin"] == origin)
    ]
    return {"changes": selected}


@router.delete("/changes")
def clear_changes(request: Request) -> dict[str, int]:
    emulator(request).store.clear_changes()
    return {"cleared": 1}


@router.post("/limits")
def set_limits(request: Request, update: LimitsUpdate) -> dict[str, int]:
    limits = emulator(request).limits
    limits.set(used=update.used, limit=update.limit)
    return limits.snapshot()


@router.post("/limits/advance")
def advance_limits(request: Request, body: LimitsAdvance) -> dict[str, int]:
    """Move the usage window forward: calls older than the window stop counting."""
    state = emulator(request)
    state.limits.advance(body.seconds)
    state.bulk_limits.advance(body.seconds)
    return state.limits.snapshot()


@router.post("/limits/reset")
def reset_limits(request: Request) -> dict[str, int]:
    state = emulator(request)
    state.limits.reset()
    state.bulk_limits.reset()
    return state.limits.snapshot()


@router.post("/picklist-values")
def add_picklist_value(request: Request, body: PicklistValue) -> dict[str, Any]:
    """Add a value to a picklist while running (describe, validation and SOQL see it)."""
    catalog = emulator(request).store.catalog
    try:
        fdef = catalog.add_picklist_value(
            body.sobject, body.field, body.value, default=body.default
        )
    except CatalogError as exc:
        raise ApiError.one(400, "INVALID_INPUT", str(exc)) from exc
    return {"field": fdef.name, "values": list(fdef.picklist), "default": fdef.default}


@router.post("/purge-deleted")
def purge_deleted(request: Request) -> dict[str, int]:
    return {"purged": emulator(request).store.purge_deleted()}


@router.post("/reset")
def reset(request: Request, body: Reset) -> dict[str, list[str]]:
    """Physically remove every record of the given types (default Task) and the change log."""
    store = emulator(request).store
    done = []
    for name in body.sobjects:
        obj = store.catalog.find(name)
        if obj is None or obj.name in ("User", "Organization", "Division"):
            raise ApiError.one(400, "INVALID_TYPE", f"cannot reset {name}")
        store.delete_all(obj)
        done.append(obj.name)
    store.clear_changes()
    return {"reset": done}
