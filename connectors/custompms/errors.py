"""How Custompms responses become sfpms errors (pure: a status and body in, an error out).

- 429 and 5xx: `CustompmsRetriableError` (a RetriableError) with the Retry-After.
- 401: `CustompmsAuthError` (a RetriableError the client does not retry itself): the token
  was refused. The capture and the sinks keep retrying it on a long backoff and report it
  loudly (error log, `sfpms_api_credentials_refused`), so a token re-issued or fixed while
  the sync runs is picked up without a restart.
- 404: `NotFoundError`; 412: `VersionMismatchError`; other 4xx: `CustompmsFatalError`.
  All three are FatalErrors carrying the API's code and field and the resource/id.

Messages name the resource, record and field, never the token.
"""

from __future__ import annotations

from typing import Any

from connectors.custompms.types import BatchItemResult, ErrorDetail
from foundation.errors import FatalError, RetriableError, SyncError

AUTH_FIX = "check SFPMS_CUSTOMPMS_TOKEN (and SFPMS_CUSTOMPMS_URL)"


def record_label(resource: str, record_id: str | None) -> str:
    """How errors name a record: `tasks/tsk_000001`; just `customers` for a create or list."""
    return f"{resource}/{record_id}" if record_id else resource


class CustompmsFatalError(FatalError):
    """The API refused the request for this record; do not retry it unchanged."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str,
        resource: str,
        record_id: str | None = None,
        field: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.resource = resource
        self.record_id = record_id
        super().__init__(message, record=record_label(resource, record_id), field=field)


class NotFoundError(CustompmsFatalError):
    """404: the record does not exist (or was deleted)."""


class VersionMismatchError(CustompmsFatalError):
    """412: If-Match named a version the record is no longer at; re-read and decide again."""


class CustompmsRetriableError(RetriableError):
    """429/5xx, timeout or dropped connection that outlasted the client's own retries."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None,
        resource: str,
        record_id: str | None = None,
        status: int | None = None,
    ) -> None:
        self.status = status
        self.resource = resource
        self.record_id = record_id
        super().__init__(message, retry_after=retry_after, record=record_label(resource, record_id))


class CustompmsAuthError(CustompmsRetriableError):
    """401: Custompms refused the token. The operator must fix SFPMS_CUSTOMPMS_TOKEN (or
    Custompms must accept it again); until then callers retry with a long backoff."""


def error_from_status(
    status: int,
    body: Any,
    *,
    action: str,
    resource: str,
    record_id: str | None = None,
    retry_after: float | None = None,
) -> SyncError:
    """The error for a final non-2xx response. `action` reads like `PATCH /tasks/tsk_000001`."""
    detail = ErrorDetail.from_json(body) or ErrorDetail(f"http_{status}", "no error body", None)
    text = f"Custompms {action} failed with {status} {detail.code}: {detail.message}"
    if status == 401:
        return CustompmsAuthError(
            f"{text}; {AUTH_FIX}",
            retry_after=None,
            resource=resource,
            record_id=record_id,
            status=401,
        )
    if status == 429 or status >= 500:
        return CustompmsRetriableError(
            text, retry_after=retry_after, resource=resource, record_id=record_id, status=status
        )
    kind = {404: NotFoundError, 412: VersionMismatchError}.get(status, CustompmsFatalError)
    fix = {
        404: "; the record is gone: drop the link or re-create it",
        412: "; re-read the record and apply the change to its current version",
        409: "; delete its dependents first or delete with cascade",
        422: "; fix the named field in the mapping or the source record",
    }.get(status, "")
    return kind(
        text + fix,
        status=status,
        code=detail.code,
        resource=resource,
        record_id=record_id,
        field=detail.field,
    )


def item_error(resource: str, item: BatchItemResult) -> SyncError | None:
    """The error a failed batch item stands for (None when it succeeded)."""
    if item.ok:
        return None
    body: dict[str, Any] | None = None
    if item.error is not None:
        body = {
            "error": {
                "code": item.error.code,
                "message": item.error.message,
                "field": item.error.field,
            }
        }
    return error_from_status(
        item.status,
        body,
        action=f"batch {item.operation.op} (item {item.index})",
        resource=resource,
        record_id=item.operation.id or (item.record or {}).get("id"),
    )
