"""`CustompmsClient`: the async HTTP client of the Custompms API (real system or emulator).

Only the base URL and the token differ between the two; both come from `Settings`.
Transient failures (429, 5xx, timeouts, dropped connections) are retried here by the
product's one retry policy (foundation/retry.py, configured in `connectors.custompms.retry`),
honouring Retry-After; what is left is raised as an `foundation.errors` error (see
`connectors.custompms.errors`). Creates always carry an idempotency key, so a retry after
a lost response never creates a record twice.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import AsyncIterator, Generator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx
from pydantic import SecretStr

from connectors.custompms.errors import (
    CustompmsAuthError,
    CustompmsRetriableError,
    NotFoundError,
    error_from_status,
)
from connectors.custompms.formats import normalize_timestamp
from connectors.custompms.retry import CUSTOMPMS_RETRY, RetryPolicy, parse_retry_after
from connectors.custompms.types import (
    MAX_BATCH_OPERATIONS,
    BatchItemResult,
    BatchOperation,
    ChangesPage,
    ErrorDetail,
    FeedEntry,
    MalformedFeedEntry,
)
from foundation import metrics
from foundation.settings import Settings

log = logging.getLogger(__name__)

API_PATH = "/api/v1"


class _BearerAuth(httpx.Auth):
    """Adds the token to each request; it is never kept in default headers or logged."""

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        yield request


class CustompmsClient:
    """Async client; use as `async with CustompmsClient(settings) as client: ...`."""

    def __init__(
        self,
        settings: Settings,
        *,
        token: SecretStr | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 10.0,
        max_connections: int = 20,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = settings.custompms_base_url().rstrip("/")
        self.retry = retry or CUSTOMPMS_RETRY
        self._rng = rng or random.Random()
        self._http = httpx.AsyncClient(
            base_url=self.base_url + API_PATH,
            auth=_BearerAuth(token or settings.custompms_token),
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"Accept": "application/json", "User-Agent": f"sfpms/{settings.client_name}"},
        )

    async def __aenter__(self) -> CustompmsClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- records --------------------------------------------------------------------------

    async def get(self, resource: str, record_id: str) -> dict[str, Any]:
        """The live record; NotFoundError when it does not exist or was deleted."""
        response = await self._request("GET", f"/{resource}/{record_id}", resource, record_id)
        return dict(response.json())

    async def create(
        self, resource: str, data: Mapping[str, Any], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Create a record. Without a key one is generated, so retries stay exactly-once."""
        key = idempotency_key or uuid.uuid4().hex
        response = await self._request(
            "POST", f"/{resource}", resource, json=dict(data), headers={"Idempotency-Key": key}
        )
        return dict(response.json())

    async def update(
        self,
        resource: str,
        record_id: str,
        patch: Mapping[str, Any],
        if_match: int | None = None,
    ) -> dict[str, Any]:
        """Partial update. A patch that changes nothing returns the record unchanged.

        With `if_match`, a retry after a lost response can see 412 although the first try
        applied; the caller then re-reads the record (it will show the change).
        """
        headers = {"If-Match": f'"{if_match}"'} if if_match is not None else None
        response = await self._request(
            "PATCH",
            f"/{resource}/{record_id}",
            resource,
            record_id,
            json=dict(patch),
            headers=headers,
        )
        return dict(response.json())

    async def delete(
        self,
        resource: str,
        record_id: str,
        if_match: int | None = None,
        *,
        cascade: bool = False,
        missing_ok: bool = False,
    ) -> bool:
        """Delete; True if this call deleted it, False if it was already gone and `missing_ok`.

        Without `cascade`, a record with dependents fails with 409 (CustompmsFatalError).
        """
        headers = {"If-Match": f'"{if_match}"'} if if_match is not None else None
        params = {"cascade": "true"} if cascade else None
        try:
            await self._request(
                "DELETE",
                f"/{resource}/{record_id}",
                resource,
                record_id,
                params=params,
                headers=headers,
            )
        except NotFoundError:
            if missing_ok:
                return False
            raise
        return True

    async def batch(
        self, resource: str, operations: Sequence[BatchOperation]
    ) -> list[BatchItemResult]:
        """Apply operations in order, in chunks of 100; one result per operation, in order.

        Creates without an idempotency key get one, so a retried chunk creates nothing twice.
        Failed items are results (status >= 400), not exceptions; see `errors.item_error`.
        """
        prepared = [
            BatchOperation.create(op.data or {}, uuid.uuid4().hex)
            if op.op == "create" and op.idempotency_key is None
            else op
            for op in operations
        ]
        results: list[BatchItemResult] = []
        for start in range(0, len(prepared), MAX_BATCH_OPERATIONS):
            chunk = prepared[start : start + MAX_BATCH_OPERATIONS]
            body = {"operations": [op.to_json() for op in chunk]}
            response = await self._request("POST", f"/{resource}/batch", resource, json=body)
            for item in response.json()["results"]:
                index = int(item["index"])
                results.append(
                    BatchItemResult(
                        index=start + index,
                        status=int(item["status"]),
                        operation=chunk[index],
                        record=item.get("record"),
                        error=ErrorDetail.from_json({"error": item.get("error")}),
                    )
                )
        return results

    async def changes(self, after: int = 0, limit: int = 100) -> ChangesPage:
        """One page of the change feed after `after` (0 = from the beginning)."""
        response = await self._request(
            "GET", "/changes", "changes", params={"after": after, "limit": limit}
        )
        body = response.json()
        changes: list[FeedEntry] = []
        malformed: list[MalformedFeedEntry] = []
        for entry in body["changes"]:
            try:
                changes.append(FeedEntry.from_json(entry))
            except (KeyError, TypeError, ValueError) as exc:
                # One unreadable entry must not stop the feed: the capture dead-letters it.
                malformed.append(MalformedFeedEntry.of(entry, exc))
        return ChangesPage(tuple(changes), int(body["next"]), tuple(malformed))

    async def find_customers_by_name(self, name: str) -> list[dict[str, Any]]:
        """Live customers whose name equals `name` ignoring case and surrounding spaces."""
        return [record async for record in self.list("customers", name=name)]

    # -- transport ------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        resource: str,
        record_id: str | None = None,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send with retries; return a 2xx response or raise the mapped error."""
        action = f"{method} {path}"
        tries = 0

        def on_retry(attempt: int, delay: float, exc: BaseException) -> None:
            log.warning(
                "Custompms %s attempt %d: %s; retrying in %.2fs", action, attempt, _why(exc), delay
            )

        try:
            async for attempt in self.retry.retrying(
                retry_on=_transient, on_retry=on_retry, rng=self._rng
            ):
                with attempt:
                    tries += 1
                    response = await self._http.request(
                        method, path, json=json, params=params, headers=headers
                    )
                    status = response.status_code
                    if status < 400:
                        metrics.CREDENTIALS_REFUSED.labels("custompms").set(0)
                        return response
                    error = error_from_status(
                        status,
                        _json_or_none(response),
                        action=action,
                        resource=resource,
                        record_id=record_id,
                        retry_after=parse_retry_after(response.headers.get("Retry-After")),
                    )
                    if isinstance(error, CustompmsAuthError):
                        metrics.CREDENTIALS_REFUSED.labels("custompms").set(1)
                    raise error
        except (CustompmsRetriableError, httpx.TransportError) as exc:
            if isinstance(exc, CustompmsAuthError):
                raise
            final_status = exc.status if isinstance(exc, CustompmsRetriableError) else None
            retry_after = exc.retry_after if isinstance(exc, CustompmsRetriableError) else None
            raise CustompmsRetriableError(
                f"Custompms {action} {_why(exc)}; gave up after {tries} attempt(s); retry later",
                retry_after=retry_after,
                resource=resource,
                record_id=record_id,
                status=final_status,
            ) from (exc if isinstance(exc, httpx.TransportError) else exc.__cause__)
        raise AssertionError("unreachable: the retry loop returns or raises")

    # Defined last: inside the class body, `list` below shadows the builtin for annotations.
    async def list(
        self,
        resource: str,
        *,
        updated_since: datetime | str | None = None,
        limit: int = 100,
        include_deleted: bool = False,
        **filters: str,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every record (all pages), by id; by (updated_at, id) when `updated_since` is set.

        `updated_since` is inclusive. Filters: customers `name`, `kind`; projects
        `customer_id`, `status`; tasks `project_id`, `status`.
        """
        params: dict[str, Any] = {"limit": limit, **filters}
        if updated_since is not None:
            params["updated_since"] = normalize_timestamp(updated_since)
        if include_deleted:
            params["include_deleted"] = "true"
        while True:
            response = await self._request("GET", f"/{resource}", resource, params=params)
            page = response.json()
            for record in page["items"]:
                yield record
            if not page.get("next_cursor"):
                return
            params["cursor"] = page["next_cursor"]


def _transient(exc: BaseException) -> bool:
    """What the client retries itself: 429/5xx, timeouts, dropped connections. A refused
    token (401) is left to the caller, which retries it on a much longer schedule."""
    if isinstance(exc, CustompmsAuthError):
        return False
    return isinstance(exc, CustompmsRetriableError | httpx.TransportError)


def _why(exc: BaseException) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.TransportError):
        return f"connection failed ({type(exc).__name__})"
    return exc.message if isinstance(exc, CustompmsRetriableError) else str(exc)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
