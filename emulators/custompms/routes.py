"""The `/api/v1` routes: the same five endpoints for every resource, plus the change feed.

Routes are generated from the store's resource specs (`resources.RESOURCES` with the
instance's custom fields), so the OpenAPI document declares each resource's own models.
Handlers are plain `def`s: FastAPI runs them in its thread pool and the store serialises
writes.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any, Union, get_args

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel, Field, create_model

from emulators.custompms.batch import apply_batch
from emulators.custompms.config import (
    API_PREFIX,
    DEFAULT_PAGE_SIZE,
    MAX_IDEMPOTENCY_KEY_LENGTH,
    MAX_PAGE_SIZE,
)
from emulators.custompms.envelopes import (
    BatchRequest,
    BatchResponse,
    Change,
    ChangesPage,
    ErrorResponse,
    Page,
)
from emulators.custompms.errors import ApiError
from emulators.custompms.resources import ResourceSpec
from emulators.custompms.store import Store
from emulators.custompms.values import normalize_datetime

#: SQLite's largest integer; a larger `after` could never match and cannot be bound.
MAX_SEQ = 2**63 - 1
IF_MATCH_PATTERN = r'^(W/)?"?[0-9]{1,18}"?$'
_IF_MATCH = re.compile(r'^(?:W/)?"?([0-9]{1,18})"?$')


def _error(description: str, **extra: Any) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description, **extra}


COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("Malformed JSON, body or parameter (`field` names it)."),
    401: _error("Missing or invalid bearer token."),
    429: _error(
        "Rate limited; retry after the given seconds.",
        headers={"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}},
    ),
    500: _error("Server error; retriable."),
    503: _error("Temporarily unavailable; retriable."),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: _error("No live record with this id (never existed or deleted).")
}
INVALID: dict[int | str, dict[str, Any]] = {
    422: _error("A field is invalid (`field` names it), or an idempotency key reused.")
}
MISMATCH: dict[int | str, dict[str, Any]] = {
    412: _error("If-Match does not match the current version.")
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: _error("The record still has dependents; delete them or pass cascade=true.")
}
ETAG = {"ETag": {"schema": {"type": "string"}, "description": 'The version, quoted: "3".'}}


def parse_if_match(value: str | None) -> int | None:
    """`3`, `"3"` or `W/"3"` -> 3."""
    if value is None:
        return None
    match = _IF_MATCH.match(value.strip())
    if match is None:
        raise ApiError(
            400, "invalid_parameter", 'If-Match must be a record version, e.g. "3"', "If-Match"
        )
    return int(match.group(1))


def parse_updated_since(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalize_datetime(value)
    except ValueError as exc:
        raise ApiError(400, "invalid_parameter", f"updated_since: {exc}", "updated_since") from None


# NOTE on optional query parameters and headers: they are annotated `str` with a None
# default, not `str | None`. A query string or header cannot carry null, so the OpenAPI
# document must not offer it (clients would send the text "null"). Absent ones arrive as None.


def _with_annotations(func: Callable[..., Any], **annotations: Any) -> Callable[..., Any]:
    # Handlers are generated per resource; their body models are only known at runtime.
    func.__annotations__.update(annotations)
    return func


def _filters_dependency(spec: ResourceSpec) -> Callable[..., dict[str, str]]:
    """A dependency whose signature declares the resource's list filters as query params."""

    def filters(**values: str | None) -> dict[str, str]:
        # Declared non-nullable (see the NOTE above); absent ones arrive as None.
        return {name: value for name, value in values.items() if value is not None}

    parameters = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=Query(None, max_length=255, description=_FILTER_HELP.get(name, "Exact match.")),
            annotation=_non_null(spec.record_model.model_fields[name].annotation),
        )
        for name in spec.filters
    ]
    filters.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return filters


def _non_null(annotation: Any) -> Any:
    """`str | None` -> `str`; anything else unchanged."""
    args = [arg for arg in get_args(annotation) if arg is not type(None)]
    return args[0] if type(None) in get_args(annotation) and len(args) == 1 else annotation


_FILTER_HELP = {"name": "Case-insensitive exact match after trimming spaces."}


def resource_router(
    spec: ResourceSpec, store: Store, authenticate: Callable[..., str]
) -> APIRouter:
    """GET/POST /{resource}, GET/PATCH/DELETE /{resource}/{id}, POST /{resource}/batch."""
    name, singular, model = spec.name, spec.singular, spec.record_model
    # The full path is the router's own prefix (not include_router's): request stats name
    # endpoints by route.path, which FastAPI keeps relative to the router that declared it.
    router = APIRouter(prefix=f"{API_PREFIX}/{name}", tags=[name], responses=COMMON_ERRORS)
    actor_dep = Depends(authenticate)
    filters_dep = Depends(_filters_dependency(spec))

    def list_records(
        limit: int = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
        cursor: str = Query(
            None, min_length=1, max_length=512, description="next_cursor of a page."
        ),
        updated_since: str = Query(
            None,
            description="RFC 3339; only records with updated_at >= this, by (updated_at, id).",
            json_schema_extra={"format": "date-time"},
        ),
        include_deleted: bool = Query(False, description="Include tombstones (deleted_at set)."),
        filters: dict[str, str] = filters_dep,
        actor: str = actor_dep,
    ) -> dict[str, Any]:
        page = store.list_page(
            name,
            limit=limit,
            cursor=cursor,
            updated_since=parse_updated_since(updated_since),
            include_deleted=include_deleted,
            filters=filters,
        )
        return {"items": page.items, "next_cursor": page.next_cursor}

    def create_record(
        response: Response,
        body: Any,
        idempotency_key: str = Header(
            None, alias="Idempotency-Key", min_length=1, max_length=MAX_IDEMPOTENCY_KEY_LENGTH
        ),
        actor: str = actor_dep,
    ) -> dict[str, Any]:
        # The store validates again (batch items reach it unvalidated); validation is
        # idempotent, and the OpenAPI document gets the model from this signature.
        data = body.model_dump(exclude_unset=True)
        result = store.create(name, data, actor, idempotency_key)
        response.status_code = result.status
        response.headers["ETag"] = f'"{result.record["version"]}"'
        if result.replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return result.record

    def get_record(id: str, response: Response, actor: str = actor_dep) -> dict[str, Any]:
        record = store.get(name, id)
        response.headers["ETag"] = f'"{record["version"]}"'
        return record

    def update_record(
        id: str,
        response: Response,
        body: Any,
        if_match: str = Header(None, alias="If-Match", pattern=IF_MATCH_PATTERN),
        actor: str = actor_dep,
    ) -> dict[str, Any]:
        patch = body.model_dump(exclude_unset=True)
        record = store.update(name, id, patch, actor, parse_if_match(if_match))
        response.headers["ETag"] = f'"{record["version"]}"'
        return record

    def delete_record(
        id: str,
        cascade: bool = Query(False, description="Also delete dependents (409 otherwise)."),
        if_match: str = Header(None, alias="If-Match", pattern=IF_MATCH_PATTERN),
        actor: str = actor_dep,
    ) -> Response:
        store.delete(name, id, actor, parse_if_match(if_match), cascade=cascade)
        return Response(status_code=204)

    def batch(body: BatchRequest, actor: str = actor_dep) -> dict[str, Any]:
        return {"results": apply_batch(store, name, body.operations, actor)}

    router.add_api_route(
        "",
        list_records,
        methods=["GET"],
        response_model=Page[model],  # type: ignore[valid-type]
        summary=f"List {name}",
        operation_id=f"list_{name}",
    )
    router.add_api_route(
        "",
        _with_annotations(create_record, body=spec.create_model),
        methods=["POST"],
        status_code=201,
        response_model=model,
        responses={**INVALID, 201: {"headers": ETAG}},
        summary=f"Create a {singular} (Idempotency-Key honoured)",
        operation_id=f"create_{singular}",
    )
    router.add_api_route(
        "/batch",
        batch,
        methods=["POST"],
        response_model=BatchResponse[model],  # type: ignore[valid-type]
        responses=INVALID,
        summary=f"Apply up to 100 {singular} operations in order",
        operation_id=f"batch_{name}",
    )
    router.add_api_route(
        "/{id}",
        get_record,
        methods=["GET"],
        response_model=model,
        responses={**NOT_FOUND, 200: {"headers": ETAG}},
        summary=f"Get a {singular}",
        operation_id=f"get_{singular}",
    )
    router.add_api_route(
        "/{id}",
        _with_annotations(update_record, body=spec.patch_model),
        methods=["PATCH"],
        response_model=model,
        responses={**NOT_FOUND, **MISMATCH, **INVALID, 200: {"headers": ETAG}},
        summary=f"Update a {singular} partially (If-Match honoured)",
        operation_id=f"update_{singular}",
    )
    router.add_api_route(
        "/{id}",
        delete_record,
        methods=["DELETE"],
        status_code=204,
        response_class=Response,
        responses={**NOT_FOUND, **MISMATCH, **CONFLICT},
        summary=f"Delete a {singular} (If-Match honoured)",
        operation_id=f"delete_{singular}",
    )
    return router


def _changes_page_model(specs: list[ResourceSpec]) -> type[BaseModel]:
    """ChangesPage whose `record` is one of this instance's record models."""
    records = tuple(spec.record_model for spec in specs)
    record: dict[str, Any] = {
        "record": (
            Union[records],  # noqa: UP007 - a union built from a runtime tuple
            Field(description="State after the change; for a delete, the last state before it."),
        )
    }
    change = create_model("Change", __base__=Change, **record)
    changes: dict[str, Any] = {"changes": (list[change], ...)}
    page: type[BaseModel] = create_model("ChangesPage", __base__=ChangesPage, **changes)
    return page


def api_router(store: Store, authenticate: Callable[..., str]) -> APIRouter:
    """Everything under /api/v1 (include it without a prefix)."""
    router = APIRouter()
    specs = list(store.specs.values())
    for spec in specs:
        router.include_router(resource_router(spec, store, authenticate))

    def changes(
        after: int = Query(
            0, ge=0, le=MAX_SEQ, description="Last seq already seen (0 = from the start)."
        ),
        limit: int = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
        actor: str = Depends(authenticate),
    ) -> dict[str, Any]:
        items, next_after = store.changes(after, limit)
        return {"changes": items, "next": next_after}

    router.add_api_route(
        f"{API_PREFIX}/changes",
        changes,
        methods=["GET"],
        response_model=_changes_page_model(specs),
        responses=COMMON_ERRORS,
        tags=["changes"],
        summary="The change feed, in commit order",
        operation_id="list_changes",
    )
    return router
