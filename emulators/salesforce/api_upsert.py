"""sObject Collections upsert: `PATCH /composite/sobjects/{SObject}/{ExternalIdField}`.

Up to 200 records of the URI's type, each with `attributes.type` and its external id value
in the body (API v46.0+). Each record is matched on the external id: none -> created, one
-> updated, several -> DUPLICATE_EXTERNAL_ID. Results are UpsertResults in request order:
`{"id", "success", "errors", "created"}`. With `allOrNone` one failure rolls back all.
Matching and writing happen under the store's lock, so a concurrent writer cannot slip a
second record with the same key in between.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from emulators.salesforce.api_composite import apply_prepared, parse_collection
from emulators.salesforce.context import (
    DATA_ROUTE,
    authenticate,
    check_version,
    emulator,
    read_json,
    sobject_or_404,
)
from emulators.salesforce.errors import ErrorItem, not_found
from emulators.salesforce.render import save_result
from emulators.salesforce.schema import FieldDef, ObjectDef
from emulators.salesforce.store import Caller, Op, OpResult, Store

router = APIRouter(prefix=DATA_ROUTE)


def _failure(code: str, message: str, fields: tuple[str, ...] = ()) -> OpResult:
    return OpResult(None, False, (ErrorItem(code, message, fields),))


def _key(value: Any) -> str:
    """How external id values compare: text case-insensitively, numbers by value."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(float(value))
    return str(value).strip().casefold()


def _shape(obj: ObjectDef, key: FieldDef, record: Any) -> tuple[str, dict[str, Any]] | OpResult:
    """(match key, body) of one entry, or the per-record error its shape earns."""
    if not isinstance(record, dict):
        return _failure("JSON_PARSER_ERROR", "record is not an object")
    attributes = record.get("attributes")
    sobject = attributes.get("type") if isinstance(attributes, dict) else None
    if not sobject:
        return _failure("INVALID_TYPE", "Must send a concrete entity type.")
    if str(sobject).casefold() != obj.name.casefold():
        return _failure(
            "INVALID_TYPE",
            f"The list can contain {obj.name} records only (the URI's type), not {sobject}",
        )
    body = {k: v for k, v in record.items() if k != "attributes"}
    if any(k.casefold() == "id" for k in body):
        return _failure(
            "INVALID_FIELD",
            f"Don't set Id in an upsert by {key.name}; the external id identifies the record",
            ("Id",),
        )
    value = next((v for k, v in body.items() if k.casefold() == key.name.casefold()), None)
    if value is None or (isinstance(value, str) and not value.strip()):
        return _failure("MISSING_ARGUMENT", f"{key.name} not specified", (key.name,))
    return _key(value), body


def _matches(store: Store, obj: ObjectDef, key: FieldDef) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for record in store.snapshot(obj):
        value = record.get(key.name)
        if value is not None:
            index.setdefault(_key(value), []).append(record["Id"])
    return index


def _decide(
    request: Request,
    obj: ObjectDef,
    key: FieldDef,
    records: list[Any],
    caller: Caller,
    all_or_none: bool,
) -> list[tuple[OpResult, bool]]:
    """(result, created) per record, decided and applied under the store's lock."""
    store = emulator(request).store
    with store.lock:
        shaped = [_shape(obj, key, r) for r in records]
        seen: dict[str, int] = {}
        for item in shaped:
            if not isinstance(item, OpResult):
                seen[item[0]] = seen.get(item[0], 0) + 1
        existing = _matches(store, obj, key)
        prepared: list[Op | OpResult] = []
        for item in shaped:
            if isinstance(item, OpResult):
                prepared.append(item)
                continue
            match_key, body = item
            shown = next(v for k, v in body.items() if k.casefold() == key.name.casefold())
            found = existing.get(match_key, [])
            if seen[match_key] > 1:
                message = f"Duplicate external id specified: {shown}"
                prepared.append(_failure("DUPLICATE_EXTERNAL_ID", message, (key.name,)))
            elif len(found) > 1:
                message = (
                    f"{key.label}: more than one record found for external id field: "
                    f"[{', '.join(found)}]"
                )
                prepared.append(_failure("DUPLICATE_EXTERNAL_ID", message, (key.name,)))
            elif found:
                prepared.append(Op("update", obj.name, found[0], body))
            else:
                prepared.append(Op("create", obj.name, body=body))
        creates = [isinstance(p, Op) and p.kind == "create" for p in prepared]
        results = apply_prepared(request, prepared, caller, all_or_none)
    return [(r, created and r.success) for r, created in zip(results, creates, strict=True)]


@router.patch("/composite/sobjects/{sobject}/{field}")
async def upsert_many(request: Request, version: str, sobject: str, field: str) -> list[Any]:
    check_version(version)
    caller = authenticate(request)
    obj = sobject_or_404(request, sobject)
    key = obj.external_id_field(field)
    if key is None or key.type == "id":
        # "Only external ids are supported. Don't use record ids."
        raise not_found(f"Provided external ID field does not exist or is not accessible: {field}")
    records, all_or_none = parse_collection(await read_json(request))
    outcome = await run_in_threadpool(_decide, request, obj, key, records, caller, all_or_none)
    return [{**save_result(result), "created": created} for result, created in outcome]
