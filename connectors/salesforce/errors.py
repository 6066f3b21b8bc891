"""How Salesforce error responses become sfpms errors (pure: status and body in, error out).

- 429, 5xx, REQUEST_LIMIT_EXCEEDED (403): `SalesforceRetriableError` (RetriableError).
- OAuth failures (bad client or user credentials): ConfigError naming the setting to fix.
- Other 4xx: `SalesforceApiError` (a FatalError) carrying errorCode, fields and message,
  naming the sObject and record. 300 (several records match an upsert key) is one too.

Messages never contain the access token or any credential.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from foundation.errors import ConfigError, FatalError, RetriableError

#: The daily API allocation is used up: later (up to 24 h) calls succeed again.
LIMIT_RETRY_AFTER_S = 300.0


def record_label(sobject: str | None, record_id: str | None) -> str | None:
    """How errors name a record: `Task/00T...`, `Task (new)`; None when unknown."""
    if sobject is None:
        return record_id
    return f"{sobject}/{record_id}" if record_id else f"{sobject} (new)"


class SalesforceApiError(FatalError):
    """Salesforce refused this request; it will fail again unchanged."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        error_code: str,
        fields: tuple[str, ...] = (),
        errors: tuple[Mapping[str, Any], ...] = (),
        record: str | None = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.fields = fields
        self.errors = errors
        super().__init__(message, record=record, field=fields[0] if fields else None)


class SalesforceRetriableError(RetriableError):
    """A transient failure (server busy, limit, connection lost) after bounded retries."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: str | None = None,
        retry_after: float | None = None,
        record: str | None = None,
        server_retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        #: The Retry-After Salesforce sent (None when `retry_after` is this client's default).
        self.server_retry_after = server_retry_after
        where = {"record": record} if record else {}
        super().__init__(message, retry_after=retry_after, **where)


def error_items(body: Any) -> tuple[Mapping[str, Any], ...]:
    """The `[{"message", "errorCode", "fields"}]` list of an error body (tolerant)."""
    if isinstance(body, list):
        return tuple(item for item in body if isinstance(item, Mapping))
    if isinstance(body, Mapping):
        return (body,)
    return ()


def first_code(body: Any) -> str | None:
    items = error_items(body)
    if not items:
        return None
    code = items[0].get("errorCode") or items[0].get("statusCode") or items[0].get("error")
    return str(code) if code else None


def api_error(
    status: int,
    body: Any,
    *,
    action: str,
    record: str | None,
    retry_after: float | None = None,
) -> SalesforceApiError | SalesforceRetriableError:
    """The error for a non-success API response (after retries are exhausted)."""
    items = error_items(body)
    code = first_code(body) or f"HTTP_{status}"
    text = "; ".join(str(i.get("message", "")).strip() for i in items) or f"HTTP {status}"
    fields = tuple(str(f) for i in items for f in (i.get("fields") or ()))
    message = f"Salesforce {action} failed: {status} {code}: {text}"
    if status == 429 or status >= 500 or code == "REQUEST_LIMIT_EXCEEDED":
        sent = retry_after
        if code == "REQUEST_LIMIT_EXCEEDED" and retry_after is None:
            retry_after = LIMIT_RETRY_AFTER_S
        return SalesforceRetriableError(
            message,
            status=status,
            error_code=code,
            retry_after=retry_after,
            record=record,
            server_retry_after=sent,
        )
    return SalesforceApiError(
        message, status=status, error_code=code, fields=fields, errors=items, record=record
    )


def login_error(status: int, body: Any, *, grant: str, username: str | None) -> Exception:
    """The error for a failed token request."""
    code = str(body.get("error")) if isinstance(body, Mapping) else f"HTTP_{status}"
    description = str(body.get("error_description", "")) if isinstance(body, Mapping) else ""
    if status == 429 or status >= 500:
        return SalesforceRetriableError(
            f"Salesforce login failed: {status} {code}: {description}", status=status
        )
    if code in ("invalid_client_id", "invalid_client"):
        fix = "check SFPMS_SALESFORCE_CLIENT_ID and SFPMS_SALESFORCE_CLIENT_SECRET"
    elif code == "invalid_grant" and grant == "password":
        fix = f"check SFPMS_SALESFORCE_USERNAME ({username}) and SFPMS_SALESFORCE_PASSWORD"
    else:
        fix = "check the SFPMS_SALESFORCE_* settings and the connected app"
    return ConfigError(f"Salesforce login ({grant} grant) refused: {code} ({description}); {fix}")
