"""Bulk API 2.0 query jobs for `SalesforceClient`: create, poll with backoff, page, clean up.

One job costs: 1 call to create, 1 per poll, 1 per results page (`maxRecords` per page,
default 50,000 here), 1 to delete. Result values arrive as CSV text and are typed with the
object's describe (one call per object, cached by the client): booleans, numbers, dates and
datetimes become Python values, empty values None. Columns through a relationship
(`Owner.Name`) stay text.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.salesforce.errors import SalesforceApiError, SalesforceRetriableError
from connectors.salesforce.formats import CSV_DELIMITERS, CSV_LINE_ENDINGS, csv_value
from connectors.salesforce.session import SalesforceSession
from connectors.salesforce.types import BulkQueryJob, BulkResultPage

DEFAULT_MAX_RECORDS = 50_000
CSV_ACCEPT = {"Accept": "text/csv"}
#: Field name -> describe type of an sObject (for typing CSV values).
FieldTypes = Callable[[str], Awaitable[Mapping[str, str]]]


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """How often a job's state is polled: `first` seconds, doubling up to `ceiling`,
    for at most `timeout` seconds overall (then the job is aborted)."""

    first: float = 0.5
    ceiling: float = 10.0
    timeout: float = 3600.0


def parse_csv_page(
    text: str,
    *,
    delimiter: str = "COMMA",
    line_ending: str = "LF",
    types: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The records of one results page (its first line names the columns)."""
    if not text:
        return []
    rows = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=CSV_DELIMITERS[delimiter],
        lineterminator=CSV_LINE_ENDINGS[line_ending],
    )
    header = next(rows, None)
    if header is None:
        return []
    kinds = types or {}
    return [
        {name: csv_value(kinds.get(name), value) for name, value in zip(header, row, strict=True)}
        for row in rows
        if row
    ]


class Bulk2Queries:
    """The query-job calls, over the client's authenticated session."""

    def __init__(self, session: SalesforceSession, data_path: str) -> None:
        self._session = session
        self._base = f"{data_path}/jobs/query"

    async def create(self, soql: str, *, include_deleted: bool = False) -> BulkQueryJob:
        body = {
            "operation": "queryAll" if include_deleted else "query",
            "query": soql,
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        }
        response = await self._session.request(
            "POST", self._base, action="bulk query create", json=body
        )
        return BulkQueryJob.from_json(response.json())

    async def job(self, job_id: str) -> BulkQueryJob:
        response = await self._session.request(
            "GET", f"{self._base}/{job_id}", action="bulk query status", record=job_id
        )
        return BulkQueryJob.from_json(response.json())

    async def wait(self, job_id: str, poll: PollPolicy) -> BulkQueryJob:
        """Poll until the job is done; JobComplete returns, Failed/Aborted raise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + poll.timeout
        delay = poll.first
        while True:
            job = await self.job(job_id)
            if job.state == "JobComplete":
                return job
            if job.state in ("Failed", "Aborted"):
                raise SalesforceApiError(
                    f"Salesforce bulk query job {job_id} ended {job.state}: "
                    f"{job.error_message or 'no reason given'}; fix the query or run it again",
                    status=200,
                    error_code=job.state.upper(),
                    record=job_id,
                )
            if loop.time() + delay > deadline:
                await self.abort(job_id)
                raise SalesforceRetriableError(
                    f"Salesforce bulk query job {job_id} still {job.state} after "
                    f"{poll.timeout:.0f}s; aborted it, run it again later",
                    record=job_id,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, poll.ceiling)

    async def pages(
        self,
        job: BulkQueryJob,
        *,
        max_records: int = DEFAULT_MAX_RECORDS,
        types: Mapping[str, str] | None = None,
    ) -> AsyncIterator[BulkResultPage]:
        """Every results page in order, following Sforce-Locator until it is "null"."""
        locator: str | None = None
        while True:
            params = {"maxRecords": str(max_records)}
            if locator:
                params["locator"] = locator
            response = await self._session.request(
                "GET",
                f"{self._base}/{job.id}/results",
                action="bulk query results",
                record=job.id,
                params=params,
                headers=CSV_ACCEPT,
            )
            following = response.headers.get("sforce-locator")
            locator = None if following in (None, "", "null") else following
            records = parse_csv_page(
                response.text,
                delimiter=job.column_delimiter,
                line_ending=job.line_ending,
                types=types,
            )
            yield BulkResultPage(tuple(records), locator)
            if locator is None:
                return

    async def abort(self, job_id: str) -> BulkQueryJob | None:
        """Abort an open job; None when it had already finished."""
        try:
            response = await self._session.request(
                "PATCH",
                f"{self._base}/{job_id}",
                action="bulk query abort",
                record=job_id,
                json={"state": "Aborted"},
            )
        except SalesforceApiError as exc:
            if exc.error_code == "API_ERROR":
                return None  # already JobComplete/Failed/Aborted
            raise
        return BulkQueryJob.from_json(response.json())

    async def delete(self, job_id: str) -> None:
        await self._session.request(
            "DELETE", f"{self._base}/{job_id}", action="bulk query delete", record=job_id
        )

    async def records(
        self,
        soql: str,
        *,
        include_deleted: bool = False,
        max_records: int = DEFAULT_MAX_RECORDS,
        poll: PollPolicy | None = None,
        field_types: FieldTypes | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Run `soql` as a query job and yield its records; the job is deleted afterwards
        (aborted if something fails before it completes)."""
        job = await self.create(soql, include_deleted=include_deleted)
        try:
            job = await self.wait(job.id, poll or PollPolicy())
        except BaseException:
            await self._quietly(self.abort(job.id))
            raise
        types = await field_types(job.object) if field_types is not None else None
        try:
            async for page in self.pages(job, max_records=max_records, types=types):
                for record in page.records:
                    yield record
        finally:
            await self._quietly(self.delete(job.id))

    @staticmethod
    async def _quietly(call: Awaitable[Any]) -> None:
        # Clean-up only: the job expires on its own on Salesforce, a failure must not mask
        # the error that brought us here.
        try:
            await call
        except (SalesforceApiError, SalesforceRetriableError):
            return
