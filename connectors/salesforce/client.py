"""`SalesforceClient`: the async REST client the CDC producer and sink workers use.

The same code talks to real Salesforce or to the local emulator; only the URL and the
credentials in `Settings` change. Use it as an async context manager:

    async with SalesforceClient(settings) as sf:
        async for task in sf.query("SELECT Id, Subject FROM Task"):
            ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from connectors.salesforce.bulk2 import DEFAULT_MAX_RECORDS, Bulk2Queries, PollPolicy
from connectors.salesforce.errors import SalesforceApiError, record_label
from connectors.salesforce.formats import format_datetime, parse_datetime
from connectors.salesforce.retry import RetryPolicy
from connectors.salesforce.session import SalesforceSession
from connectors.salesforce.types import (
    ApiUsage,
    DeletedRecord,
    DeletedRecords,
    Identity,
    RecordResult,
    UpdatedRecords,
    UpsertResult,
)
from foundation.settings import Settings

#: sObject Collections accept at most this many records per request.
COLLECTION_LIMIT = 200
#: sObject Collections retrieve by request body (POST) takes up to 2,000 ids.
RETRIEVE_LIMIT = 2000
_GONE = frozenset({"NOT_FOUND", "ENTITY_IS_DELETED"})


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SalesforceClient:
    """Async Salesforce REST client: login, retries, paging, collections, replication."""

    def __init__(
        self,
        settings: Settings,
        *,
        client_name: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        retry_ambiguous_posts: bool = False,
        timeout: float = 30.0,
    ) -> None:
        self.settings = settings
        self.client_name = client_name or settings.client_name
        self.version = settings.salesforce_api_version
        self._session = SalesforceSession(
            settings,
            client_name=self.client_name,
            transport=transport,
            retry=retry,
            retry_ambiguous_posts=retry_ambiguous_posts,
            timeout=timeout,
        )
        self._field_types: dict[str, dict[str, str]] = {}
        self.bulk2 = Bulk2Queries(self._session, self._data)  # query jobs, step by step

    async def __aenter__(self) -> SalesforceClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._session.aclose()

    @property
    def session(self) -> SalesforceSession:
        """The authenticated session (shared with the Pub/Sub client's credentials)."""
        return self._session

    @property
    def api_usage(self) -> ApiUsage | None:
        """(used, limit) of the daily API allocation, from the latest response's
        `Sforce-Limit-Info: api-usage=N/M` header (every API response carries it)."""
        return self._session.api_usage

    @property
    def _data(self) -> str:
        return f"/services/data/v{self.version}"

    # -- identity and metadata -------------------------------------------------------------

    async def identity(self) -> Identity:
        """The logged-in user and org (from the identity URL of the token response)."""
        await self._session.ensure_login()
        url = self._session.identity_url
        if not url:
            raise SalesforceApiError(
                "Salesforce returned no identity URL at login", status=200, error_code="NO_ID"
            )
        body = (await self._session.request("GET", url, action="identity")).json()
        return Identity(
            user_id=str(body["user_id"]),
            org_id=str(body["organization_id"]),
            username=body.get("username"),
            display_name=body.get("display_name"),
        )

    async def describe(self, sobject: str) -> dict[str, Any]:
        path = f"{self._data}/sobjects/{sobject}/describe"
        response = await self._session.request("GET", path, action=f"describe {sobject}")
        result: dict[str, Any] = response.json()
        return result

    async def limits(self) -> dict[str, Any]:
        response = await self._session.request("GET", f"{self._data}/limits", action="limits")
        result: dict[str, Any] = response.json()
        return result

    # -- queries ---------------------------------------------------------------------------

    async def query(self, soql: str) -> AsyncIterator[dict[str, Any]]:
        """Every record of a SOQL query, following nextRecordsUrl page by page."""
        async for record in self._paged("query", soql):
            yield record

    async def query_all(self, soql: str) -> AsyncIterator[dict[str, Any]]:
        """Like `query`, including deleted records (IsDeleted = true)."""
        async for record in self._paged("queryAll", soql):
            yield record

    async def count(self, soql: str) -> int:
        """totalSize of a query (use `SELECT COUNT() FROM ...`)."""
        path = f"{self._data}/query"
        response = await self._session.request("GET", path, action="query", params={"q": soql})
        return int(response.json()["totalSize"])

    async def field_types(self, sobject: str) -> dict[str, str]:
        """Field name -> describe type of `sobject` (described once per client)."""
        if sobject not in self._field_types:
            described = await self.describe(sobject)
            self._field_types[sobject] = {f["name"]: f["type"] for f in described["fields"]}
        return self._field_types[sobject]

    def bulk_query(
        self,
        soql: str,
        *,
        include_deleted: bool = False,
        max_records: int = DEFAULT_MAX_RECORDS,
        poll: PollPolicy | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every record of `soql` through a Bulk API 2.0 query job, typed by describe (one
        call per `max_records` records; no GROUP BY, OFFSET, TYPEOF, aggregates, subqueries)."""
        return self.bulk2.records(
            soql,
            include_deleted=include_deleted,
            max_records=max_records,
            poll=poll,
            field_types=self.field_types,
        )

    async def _paged(self, resource: str, soql: str) -> AsyncIterator[dict[str, Any]]:
        response = await self._session.request(
            "GET", f"{self._data}/{resource}", action=resource, params={"q": soql}
        )
        body = response.json()
        while True:
            for record in body.get("records", []):
                yield record
            next_url = body.get("nextRecordsUrl")
            if body.get("done", True) or not next_url:
                return
            response = await self._session.request("GET", next_url, action=f"{resource} more")
            body = response.json()

    # -- single records --------------------------------------------------------------------

    async def get(
        self, sobject: str, record_id: str, fields: Sequence[str] | None = None
    ) -> dict[str, Any] | None:
        """A record, or None when it does not exist (or is deleted)."""
        params = {"fields": ",".join(fields)} if fields else None
        response = await self._session.request(
            "GET",
            f"{self._data}/sobjects/{sobject}/{record_id}",
            action=f"get {sobject}",
            record=record_label(sobject, record_id),
            params=params,
            accept=(200, 404),
        )
        if response.status_code == 404:
            return None
        result: dict[str, Any] = response.json()
        return result

    async def create(self, sobject: str, data: Mapping[str, Any]) -> str:
        """Create a record; its id."""
        response = await self._session.request(
            "POST",
            f"{self._data}/sobjects/{sobject}",
            action=f"create {sobject}",
            record=record_label(sobject, None),
            json=dict(data),
        )
        return str(response.json()["id"])

    async def update(self, sobject: str, record_id: str, data: Mapping[str, Any]) -> None:
        await self._session.request(
            "PATCH",
            f"{self._data}/sobjects/{sobject}/{record_id}",
            action=f"update {sobject}",
            record=record_label(sobject, record_id),
            json=dict(data),
        )

    async def delete(self, sobject: str, record_id: str, *, missing_ok: bool = False) -> None:
        """Delete a record; with `missing_ok`, one already gone is not an error."""
        try:
            await self._session.request(
                "DELETE",
                f"{self._data}/sobjects/{sobject}/{record_id}",
                action=f"delete {sobject}",
                record=record_label(sobject, record_id),
            )
        except SalesforceApiError as exc:
            if not (missing_ok and exc.error_code in _GONE):
                raise

    async def upsert(
        self, sobject: str, ext_field: str, value: str, data: Mapping[str, Any]
    ) -> tuple[str, bool]:
        """Create or update the record whose `ext_field` equals `value`: (id, created)."""
        label = f"{sobject} {ext_field}={value}"
        response = await self._session.request(
            "PATCH",
            f"{self._data}/sobjects/{sobject}/{ext_field}/{quote(value, safe='')}",
            action=f"upsert {sobject}",
            record=label,
            json=dict(data),
            accept=(200, 201, 300),
        )
        if response.status_code == 300:
            matches = response.json()
            raise SalesforceApiError(
                f"Salesforce upsert {sobject} failed: {len(matches)} records have "
                f"{ext_field}={value} ({', '.join(str(m).rsplit('/', 1)[-1] for m in matches)}); "
                f"make {ext_field} unique or update one of them by id",
                status=300,
                error_code="MULTIPLE_CHOICES",
                record=label,
            )
        body = response.json()
        return str(body["id"]), bool(body.get("created", response.status_code == 201))

    # -- sObject Collections ---------------------------------------------------------------

    async def collections_create(
        self,
        records: Sequence[Mapping[str, Any]],
        all_or_none: bool = False,
        *,
        sobject: str | None = None,
    ) -> list[RecordResult]:
        """Create records in chunks of 200 (all-or-none holds per chunk); results in order.

        Each record needs `attributes: {"type": ...}`, or pass `sobject` for all of them.
        """
        return await self._collections("POST", records, all_or_none, sobject)

    async def collections_update(
        self,
        records: Sequence[Mapping[str, Any]],
        all_or_none: bool = False,
        *,
        sobject: str | None = None,
    ) -> list[RecordResult]:
        """Update records (each with its `Id`) in chunks of 200; results in order."""
        return await self._collections("PATCH", records, all_or_none, sobject)

    async def _collections(
        self,
        method: str,
        records: Sequence[Mapping[str, Any]],
        all_or_none: bool,
        sobject: str | None,
    ) -> list[RecordResult]:
        prepared = [
            {"attributes": {"type": sobject}, **r} if sobject and "attributes" not in r else dict(r)
            for r in records
        ]
        action = "collections create" if method == "POST" else "collections update"
        results: list[RecordResult] = []
        for chunk in _chunks(prepared, COLLECTION_LIMIT):
            response = await self._session.request(
                method,
                f"{self._data}/composite/sobjects",
                action=action,
                json={"allOrNone": all_or_none, "records": list(chunk)},
            )
            results.extend(RecordResult.from_json(item) for item in response.json())
        return results

    async def collections_upsert(
        self,
        sobject: str,
        ext_field: str,
        records: Sequence[Mapping[str, Any]],
        all_or_none: bool = False,
    ) -> list[UpsertResult]:
        """Create or update records matched on `ext_field` (each record carries its value),
        200 per call; per-record results (`created` says which) in order."""
        prepared = [
            {"attributes": {"type": sobject}, **{k: v for k, v in r.items() if k != "attributes"}}
            for r in records
        ]
        results: list[UpsertResult] = []
        for chunk in _chunks(prepared, COLLECTION_LIMIT):
            response = await self._session.request(
                "PATCH",
                f"{self._data}/composite/sobjects/{sobject}/{ext_field}",
                action=f"collections upsert {sobject}",
                json={"allOrNone": all_or_none, "records": list(chunk)},
            )
            results.extend(UpsertResult.from_json(item) for item in response.json())
        return results

    async def collections_retrieve(
        self, sobject: str, ids: Sequence[str], fields: Sequence[str]
    ) -> list[dict[str, Any] | None]:
        """Fields of records by id (sObject Collections retrieve, the POST form: 2,000 ids a
        call); None for a record that does not exist or is deleted. In the order of `ids`."""
        results: list[dict[str, Any] | None] = []
        for chunk in _chunks(list(ids), RETRIEVE_LIMIT):
            response = await self._session.request(
                "POST",
                f"{self._data}/composite/sobjects/{sobject}",
                action="collections retrieve",
                json={"ids": list(chunk), "fields": list(fields)},
            )
            results.extend(response.json())
        return results

    async def collections_delete(
        self, ids: Sequence[str], all_or_none: bool = False
    ) -> list[RecordResult]:
        """Delete records by id in chunks of 200; results in order."""
        results: list[RecordResult] = []
        for chunk in _chunks(list(ids), COLLECTION_LIMIT):
            response = await self._session.request(
                "DELETE",
                f"{self._data}/composite/sobjects",
                action="collections delete",
                params={"ids": ",".join(chunk), "allOrNone": str(all_or_none).lower()},
            )
            results.extend(RecordResult.from_json(item) for item in response.json())
        return results

    # -- replication -----------------------------------------------------------------------

    def _window(self, start: datetime, end: datetime) -> dict[str, str]:
        return {"start": format_datetime(start), "end": format_datetime(end)}

    async def updated(self, sobject: str, start: datetime, end: datetime) -> UpdatedRecords:
        """Ids of records created or changed in [start, end) (Salesforce drops the seconds)."""
        response = await self._session.request(
            "GET",
            f"{self._data}/sobjects/{sobject}/updated/",
            action=f"updated {sobject}",
            params=self._window(start, end),
        )
        body = response.json()
        return UpdatedRecords(tuple(body.get("ids", [])), parse_datetime(body["latestDateCovered"]))

    async def deleted(self, sobject: str, start: datetime, end: datetime) -> DeletedRecords:
        """Records deleted in [start, end), with the recycle bin's earliest available date."""
        response = await self._session.request(
            "GET",
            f"{self._data}/sobjects/{sobject}/deleted/",
            action=f"deleted {sobject}",
            params=self._window(start, end),
        )
        body = response.json()
        earliest = body.get("earliestDateAvailable")
        return DeletedRecords(
            tuple(
                DeletedRecord(str(item["id"]), parse_datetime(item["deletedDate"]))
                for item in body.get("deletedRecords", [])
            ),
            parse_datetime(earliest) if earliest else None,
            parse_datetime(body["latestDateCovered"]),
        )
