"""sObject Collections: create, update and delete up to 200 records per request, and
retrieve up to 2000 by id.

Results come back in request order as SaveResults (`statusCode` in each error). With
`allOrNone` true, one failure rolls back the whole request and every other record reports
ALL_OR_NONE_OPERATION_ROLLED_BACK.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from emulators.salesforce import ids as sfids
from emulators.salesforce.context import (
    DATA_ROUTE,
    authenticate,
    check_version,
    emulator,
    read_json,
    sobject_or_404,
)
from emulators.salesforce.errors import ApiError, ErrorItem
from emulators.salesforce.render import record_json, save_result, select_fields
from emulators.salesforce.store import ROLLED_BACK, Caller, Op, OpResult

router = APIRouter(prefix=DATA_ROUTE)

MAX_RECORDS = 200
MAX_RETRIEVE = 2000


def too_many() -> ApiError:
    return ApiError.one(
        400,
        "EXCEEDED_ID_LIMIT",
        f"record limit reached. cannot submit more than {MAX_RECORDS} records into this call",
    )


def flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def parse_collection(body: Any) -> tuple[list[Any], bool]:
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise ApiError.one(
            400, "JSON_PARSER_ERROR", "The request body must be an object with a records array"
        )
    records = body["records"]
    if len(records) > MAX_RECORDS:
        raise too_many()
    return records, flag(body.get("allOrNone", False))


def _op(kind: str, record: Any) -> Op | OpResult:
    """An operation for one collection entry, or the per-record error it earns."""
    if not isinstance(record, dict):
        return OpResult(None, False, (ErrorItem("JSON_PARSER_ERROR", "record is not an object"),))
    attributes = record.get("attributes")
    sobject = attributes.get("type") if isinstance(attributes, dict) else None
    if not sobject:
        return OpResult(
            None, False, (ErrorItem("INVALID_TYPE", "Must send a concrete entity type."),)
        )
    fields = {k: v for k, v in record.items() if k != "attributes"}
    if kind == "create":
        return Op("create", str(sobject), body=fields)
    record_id = next((v for k, v in fields.items() if k.casefold() == "id"), None)
    if not record_id:
        return OpResult(
            None,
            False,
            (ErrorItem("MISSING_ARGUMENT", "Id not specified in an update call", ("Id",)),),
        )
    body = {k: v for k, v in fields.items() if k.casefold() != "id"}
    return Op("update", str(sobject), str(record_id), body)


def lock_fault(request: Request, prepared: Op | OpResult) -> Op | OpResult:
    """An injected UNABLE_TO_LOCK_ROW for this record (fault `record_lock_rate`), else it."""
    if not isinstance(prepared, Op):
        return prepared
    if not emulator(request).injector.draw_record_lock(request.url.path):
        return prepared
    which = f": {prepared.record_id}" if prepared.record_id else ""
    message = f"unable to obtain exclusive access to this record or 1 records{which}"
    item = ErrorItem("UNABLE_TO_LOCK_ROW", message)
    return OpResult(prepared.record_id, False, (item,))


def apply_prepared(
    request: Request, prepared: list[Op | OpResult], caller: Caller, all_or_none: bool
) -> list[OpResult]:
    """Apply the operations among `prepared` (others are per-record errors); in order.

    Runs in the thread pool; callers that decide operations from the store's current
    state hold `store.lock` around deciding and applying (it is re-entrant).
    """
    prepared = [lock_fault(request, p) for p in prepared]
    ops = [p for p in prepared if isinstance(p, Op)]
    if all_or_none and len(ops) < len(prepared):
        # A record already failed before reaching the store: nothing may be written.
        applied = [
            OpResult(None if op.kind == "create" else op.record_id, False, (ROLLED_BACK,))
            for op in ops
        ]
    else:
        applied = emulator(request).store.apply(ops, caller, all_or_none=all_or_none)
    results = iter(applied)
    return [p if isinstance(p, OpResult) else next(results) for p in prepared]


async def _write(request: Request, version: str, kind: str) -> list[dict[str, Any]]:
    check_version(version)
    caller = authenticate(request)
    records, all_or_none = parse_collection(await read_json(request))
    prepared = [_op(kind, r) for r in records]
    merged = await run_in_threadpool(apply_prepared, request, prepared, caller, all_or_none)
    return [save_result(r) for r in merged]


@router.post("/composite/sobjects")
async def create_many(request: Request, version: str) -> list[dict[str, Any]]:
    return await _write(request, version, "create")


@router.patch("/composite/sobjects")
async def update_many(request: Request, version: str) -> list[dict[str, Any]]:
    return await _write(request, version, "update")


@router.delete("/composite/sobjects")
async def delete_many(
    request: Request,
    version: str,
    ids: str = "",
    allOrNone: str = "false",
) -> list[dict[str, Any]]:
    check_version(version)
    caller = authenticate(request)
    wanted = [i.strip() for i in ids.split(",") if i.strip()]
    if len(wanted) > MAX_RECORDS:
        raise too_many()
    ops: list[Op | OpResult] = [Op("delete", None, i) for i in wanted]
    results = await run_in_threadpool(apply_prepared, request, ops, caller, flag(allOrNone))
    return [save_result(r) for r in results]


@router.get("/composite/sobjects/{sobject}")
def retrieve_many(
    request: Request, version: str, sobject: str, ids: str = "", fields: str = ""
) -> list[dict[str, Any] | None]:
    wanted = [i.strip() for i in ids.split(",") if i.strip()]
    return _retrieve(request, version, sobject, wanted, fields)


@router.post("/composite/sobjects/{sobject}")
async def retrieve_many_by_body(
    request: Request, version: str, sobject: str
) -> list[dict[str, Any] | None]:
    """The POST form: `{"ids": [...], "fields": [...]}`, up to 2,000 ids (no URL limit)."""
    body = await request.json()
    if not isinstance(body, dict):
        raise ApiError.one(400, "JSON_PARSER_ERROR", "the request body must be an object")
    ids, fields = body.get("ids"), body.get("fields")
    if not isinstance(ids, list) or not ids:
        raise ApiError.one(400, "MISSING_ARGUMENT", "ids is required")
    if not isinstance(fields, list) or not fields:
        raise ApiError.one(400, "MISSING_ARGUMENT", "fields is required")
    wanted = [str(i).strip() for i in ids]
    return await run_in_threadpool(
        _retrieve, request, version, sobject, wanted, ",".join(str(f) for f in fields)
    )


def _retrieve(
    request: Request, version: str, sobject: str, wanted: list[str], fields: str
) -> list[dict[str, Any] | None]:
    version = check_version(version)
    authenticate(request)
    obj = sobject_or_404(request, sobject)
    if len(wanted) > MAX_RETRIEVE:
        raise ApiError.one(
            400, "EXCEEDED_ID_LIMIT", f"cannot retrieve more than {MAX_RETRIEVE} ids"
        )
    chosen = select_fields(obj, fields)
    if chosen is None:
        raise ApiError.one(400, "MISSING_ARGUMENT", "fields is required")
    store = emulator(request).store
    out: list[dict[str, Any] | None] = []
    for text in wanted:
        try:
            found = store.get(sfids.normalize(text))
        except sfids.MalformedId:
            found = None
        if found is None or found[0] is not obj or found[1].get("IsDeleted"):
            out.append(None)
        else:
            out.append(record_json(obj, found[1], version, chosen))
    return out
