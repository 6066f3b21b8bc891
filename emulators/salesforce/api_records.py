"""sObject rows: create, read, update, delete, upsert by external id, describe."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from emulators.salesforce import ids
from emulators.salesforce.context import (
    DATA_ROUTE,
    authenticate,
    check_version,
    data_path,
    emulator,
    read_json,
    record_url,
    sobject_or_404,
)
from emulators.salesforce.describe import describe_global, describe_global_entry, describe_sobject
from emulators.salesforce.errors import ApiError, method_not_allowed, not_found
from emulators.salesforce.render import raise_for, record_json, select_fields
from emulators.salesforce.schema import ObjectDef
from emulators.salesforce.store import Caller, Op, Store

router = APIRouter(prefix=DATA_ROUTE)


def _route(path: str, methods: list[str]) -> Any:
    """Register an endpoint at `path` and `path/` (clients use both spellings)."""

    def decorator(func: Any) -> Any:
        router.add_api_route(path, func, methods=methods)
        router.add_api_route(path + "/", func, methods=methods, include_in_schema=False)
        return func

    return decorator


def _allowed(obj: ObjectDef, *, row: bool) -> str:
    methods = ["HEAD", "GET"]
    if row and obj.updateable:
        methods.append("PATCH")
    if row and obj.deletable:
        methods.append("DELETE")
    if not row and obj.createable:
        methods.append("POST")
    return ",".join(methods)


def _body_object(body: Any, obj: ObjectDef) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError.one(
            400,
            "JSON_PARSER_ERROR",
            f"Cannot deserialize instance of {obj.name} from START_ARRAY value or request may "
            "be missing a required field at [line:1, column:1]",
        )
    return body


def _row_id(obj: ObjectDef, text: str) -> str:
    """The canonical id of a URL segment that must be a record of `obj`."""
    try:
        record_id = ids.normalize(text)
    except ids.MalformedId as exc:
        raise not_found(
            f"Provided external ID field does not exist or is not accessible: {text}"
        ) from exc
    if record_id[:3] != obj.key_prefix:
        raise not_found()
    return record_id


@_route("/sobjects", ["GET"])
def describe_all(request: Request, version: str) -> dict[str, Any]:
    authenticate(request)
    return describe_global(
        data_path(check_version(version)), emulator(request).store.catalog.objects()
    )


@_route("/sobjects/{sobject}", ["GET"])
def basic_info(request: Request, version: str, sobject: str) -> dict[str, Any]:
    authenticate(request)
    obj = sobject_or_404(request, sobject)
    return {
        "objectDescribe": describe_global_entry(obj, data_path(check_version(version))),
        "recentItems": [],
    }


@_route("/sobjects/{sobject}/describe", ["GET"])
def describe(request: Request, version: str, sobject: str) -> dict[str, Any]:
    authenticate(request)
    return describe_sobject(sobject_or_404(request, sobject), data_path(check_version(version)))


@_route("/sobjects/{sobject}", ["POST"])
async def create(request: Request, version: str, sobject: str) -> Response:
    check_version(version)
    caller = authenticate(request)
    obj = sobject_or_404(request, sobject)
    if not obj.createable:
        raise method_not_allowed("POST", _allowed(obj, row=False))
    body = _body_object(await read_json(request), obj)
    store = emulator(request).store
    result = (await run_in_threadpool(store.apply, [Op("create", obj.name, body=body)], caller))[0]
    raise_for(result)
    return JSONResponse({"id": result.id, "success": True, "errors": []}, status_code=201)


@router.get("/sobjects/{sobject}/{record_id}")
def get_record(
    request: Request, version: str, sobject: str, record_id: str, fields: str | None = None
) -> dict[str, Any]:
    version = check_version(version)
    authenticate(request)
    obj = sobject_or_404(request, sobject)
    found = emulator(request).store.get(_row_id(obj, record_id))
    if found is None or found[1].get("IsDeleted"):
        raise not_found()
    return record_json(obj, found[1], version, select_fields(obj, fields))


@router.patch("/sobjects/{sobject}/{record_id}")
async def update(request: Request, version: str, sobject: str, record_id: str) -> Response:
    check_version(version)
    caller = authenticate(request)
    obj = sobject_or_404(request, sobject)
    if not obj.updateable:
        raise method_not_allowed("PATCH", _allowed(obj, row=True))
    canonical = _row_id(obj, record_id)
    body = _body_object(await read_json(request), obj)
    store = emulator(request).store
    if store.get(canonical) is None:
        raise not_found()
    op = Op("update", obj.name, canonical, body)
    raise_for((await run_in_threadpool(store.apply, [op], caller))[0])
    return Response(status_code=204)


@router.delete("/sobjects/{sobject}/{record_id}")
async def delete(request: Request, version: str, sobject: str, record_id: str) -> Response:
    check_version(version)
    caller = authenticate(request)
    obj = sobject_or_404(request, sobject)
    if not obj.deletable:
        raise method_not_allowed("DELETE", _allowed(obj, row=True))
    canonical = _row_id(obj, record_id)
    store = emulator(request).store
    if store.get(canonical) is None:
        raise not_found()
    op = Op("delete", obj.name, canonical)
    raise_for((await run_in_threadpool(store.apply, [op], caller))[0])
    return Response(status_code=204)


def _external_field(obj: ObjectDef, name: str) -> str:
    fdef = obj.external_id_field(name)
    if fdef is None:
        raise not_found(f"Provided external ID field does not exist or is not accessible: {name}")
    return fdef.name


def _matches(store: Store, obj: ObjectDef, field: str, value: str) -> list[str]:
    if field == "Id":
        try:
            record_id = ids.normalize(value)
        except ids.MalformedId:
            return []
        return [record_id] if store.lookup(record_id) is not None else []
    return store.find_by(obj, field, value)


def _multiple(version: str, obj: ObjectDef, matches: list[str]) -> JSONResponse:
    return JSONResponse([record_url(version, obj.name, m) for m in matches], status_code=300)


@router.get("/sobjects/{sobject}/{field}/{value:path}")
def get_by_external_id(
    request: Request, version: str, sobject: str, field: str, value: str, fields: str | None = None
) -> Any:
    version = check_version(version)
    authenticate(request)
    obj = sobject_or_404(request, sobject)
    store = emulator(request).store
    matches = _matches(store, obj, _external_field(obj, field), value)
    if not matches:
        raise not_found()
    if len(matches) > 1:
        return _multiple(version, obj, matches)
    found = store.get(matches[0])
    assert found is not None
    return record_json(obj, found[1], version, select_fields(obj, fields))


def _upsert(
    store: Store, obj: ObjectDef, field: str, value: str, body: dict[str, Any], caller: Caller
) -> tuple[str, list[str], Any]:
    """('created' | 'updated' | 'multiple', matches, result) decided and applied atomically."""
    with store.lock:
        matches = _matches(store, obj, field, value)
        if len(matches) > 1:
            return "multiple", matches, None
        if matches:
            result = store.apply([Op("update", obj.name, matches[0], body)], caller)[0]
            return "updated", matches, result
        if field == "Id":
            raise not_found()
        if not obj.createable:
            raise method_not_allowed("PATCH", _allowed(obj, row=True))
        result = store.apply([Op("create", obj.name, body={**body, field: value})], caller)[0]
        return "created", matches, result


@router.patch("/sobjects/{sobject}/{field}/{value:path}")
async def upsert(request: Request, version: str, sobject: str, field: str, value: str) -> Response:
    version = check_version(version)
    caller = authenticate(request)
    obj = sobject_or_404(request, sobject)
    key = _external_field(obj, field)
    body = _body_object(await read_json(request), obj)
    if any(k.casefold() == key.casefold() for k in body):
        raise ApiError.one(
            400,
            "INVALID_FIELD",
            f"The {key} field should not be specified in the sobject data.",
        )
    store = emulator(request).store
    outcome, matches, result = await run_in_threadpool(
        _upsert, store, obj, key, value, body, caller
    )
    if outcome == "multiple":
        return _multiple(version, obj, matches)
    raise_for(result)
    created = outcome == "created"
    return JSONResponse(
        {"id": result.id, "success": True, "errors": [], "created": created},
        status_code=201 if created else 200,
    )
