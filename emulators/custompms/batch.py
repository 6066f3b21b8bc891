"""`POST /{resource}/batch`: up to 100 operations, applied in order, each on its own.

Each operation commits (or fails) alone and produces its own change; one failing item does
not stop or undo the others. The store lock is held for the whole batch, so its changes
are consecutive in the feed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from emulators.custompms.envelopes import BatchOperation
from emulators.custompms.errors import ApiError
from emulators.custompms.store import Store


def apply_batch(
    store: Store, resource: str, operations: Sequence[BatchOperation], actor: str
) -> list[dict[str, Any]]:
    """Per-item results: `{"index", "status", "record", "error"}`."""
    results: list[dict[str, Any]] = []
    with store.lock:
        for index, operation in enumerate(operations):
            try:
                status, record = _apply(store, resource, operation, actor)
                results.append({"index": index, "status": status, "record": record, "error": None})
            except ApiError as exc:
                results.append(
                    {"index": index, "status": exc.status, "record": None, "error": exc.detail()}
                )
    return results


def _apply(
    store: Store, resource: str, operation: BatchOperation, actor: str
) -> tuple[int, dict[str, Any] | None]:
    op = operation.op
    _forbid(op == "create" and operation.id is not None, "id", "a create gets its id assigned")
    _forbid(op != "create" and operation.idempotency_key is not None, "idempotency_key", op)
    _forbid(op == "create" and operation.if_match is not None, "if_match", op)
    _forbid(op == "delete" and operation.data is not None, "data", op)
    _forbid(op != "delete" and operation.cascade, "cascade", op)
    if op == "create":
        data = _require(operation.data, "data")
        created = store.create(
            resource, data, actor, operation.idempotency_key, key_field="idempotency_key"
        )
        return created.status, created.record
    record_id = _require(operation.id, "id")
    if op == "update":
        patch = _require(operation.data, "data")
        record = store.update(
            resource, record_id, patch, actor, operation.if_match, if_match_field="if_match"
        )
        return 200, record
    store.delete(
        resource,
        record_id,
        actor,
        operation.if_match,
        cascade=operation.cascade,
        if_match_field="if_match",
    )
    return 204, None


def _forbid(condition: bool, field: str, why: str) -> None:
    if condition:
        message = why if " " in why else f"{field} is not allowed on a {why} operation"
        raise ApiError(422, "not_allowed", message, field)


def _require(value: Any, field: str) -> Any:
    if value is None:
        raise ApiError(422, "required", f"{field} is required for this operation", field)
    return value
