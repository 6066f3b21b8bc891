"""First loads and `sfpms backfill`: every live record of an sObject, published as op r.

- Bulk API 2.0 when the sObject holds at least `bulk_threshold` records (default 10,000),
  REST queries below it. A Bulk query job costs create + a few state polls + one call per
  results page (`bulk_page_records`, default 50,000) + delete, so 100,000 Tasks take about
  ten calls; REST takes one call per 2,000 records.
- Both read in Id order, so the work can resume: after each page is acknowledged by the
  broker, `backfill/salesforce/<sObject>` in the positions topic holds the last Id
  published (and the count so far). A backfill stopped or killed resumes after that Id
  (a resumed Bulk job is a new job with `WHERE Id > '<last>'`); at most one page is
  published twice.
- The high watermark read before the first page (the newest SystemModstamp of the sObject,
  deleted records included) is kept with the progress: streaming resumes from it once the
  first load is done, so a change made during the load is published again, never lost.
"""

# SOQL here is built from schema field names and soql_quote()d ids, never user text:
# ruff: noqa: S608

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from connectors.cdc.positions import Position, backfill_key
from connectors.cdc.publisher import Publisher
from connectors.cdc.watermark import Mark, head_soql, snapshot_soql
from connectors.salesforce import SalesforceClient
from connectors.salesforce.bulk2 import PollPolicy
from connectors.salesforce.formats import parse_datetime, soql_quote
from foundation.settings import CaptureSettings

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]
EmitPage = Callable[[Sequence[Mapping[str, Any]]], Awaitable[None]]
#: Stands for "no record yet" in a stored high watermark (an empty sObject).
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Via = Literal["bulk", "rest"]


@dataclass(frozen=True, slots=True)
class BackfillResult:
    """What one backfill run did."""

    sobject: str
    published: int
    total: int
    via: Via
    finished: bool
    high: Mark | None  # newest (SystemModstamp, Id) when it began (None: was empty)
    resumed_after: str | None
    seconds: float

    @property
    def rate(self) -> float:
        return self.published / self.seconds if self.seconds > 0 else 0.0


def choose_reader(total: int, threshold: int) -> Via:
    """Bulk API 2.0 from `threshold` records on, REST below (pure)."""
    return "bulk" if total >= threshold and threshold > 0 else "rest"


class Backfill:
    """Publishes the live records of one sObject, resumably (see the module docstring)."""

    def __init__(
        self,
        client: SalesforceClient,
        publisher: Publisher,
        options: CaptureSettings,
        positions: Mapping[str, Position],
        *,
        poll: PollPolicy | None = None,
    ) -> None:
        self.client = client
        self.publisher = publisher
        self.options = options
        self.positions = dict(positions)
        self.poll = poll or PollPolicy(first=0.5, ceiling=5.0)

    async def head(self, sobject: str) -> Mark | None:
        """The newest (SystemModstamp, Id) of an sObject, deleted records included."""
        async for raw in self.client.query_all(head_soql(sobject)):
            return Mark(parse_datetime(str(raw["SystemModstamp"])), str(raw["Id"]))
        return None

    async def run(
        self,
        sobject: str,
        fields: tuple[str, ...],
        emit_page: EmitPage,
        *,
        stop: asyncio.Event | None = None,
        progress: Progress | None = None,
        fresh: bool = False,
        resumable: bool = True,
        on_start: Callable[[Mark | None], None] | None = None,
    ) -> BackfillResult:
        """Publish every live record of `sobject` in Id order (resuming a stored run
        unless `fresh`; storing progress unless not `resumable`); returns what was done.
        `on_start` hears the high watermark (None for an empty sObject) before the first
        record is published."""
        started = time.monotonic()
        key = backfill_key("salesforce", sobject)
        stored = None if fresh else self.positions.get(key)
        resume = stored is not None and not stored.snapshot_done and stored.mark is not None
        high: Mark | None
        if resume and stored is not None and stored.mark is not None:
            high_stamp = stored.mark.stamp
            high = None if high_stamp == EPOCH else Mark(high_stamp, "")
            after_id: str | None = stored.mark.id or None
            done = stored.seq or 0
            log.info(
                "Salesforce %s backfill resumes after %s (%d published)", sobject, after_id, done
            )
        else:
            high = await self.head(sobject)
            high_stamp = high.stamp if high else EPOCH
            after_id, done = None, 0
        resumed_after = after_id
        if on_start is not None:
            on_start(high)
        where = f" WHERE Id > {soql_quote(after_id)}" if after_id else ""
        left = await self.client.count(f"SELECT COUNT() FROM {sobject}{where}")
        total = done + left
        via = choose_reader(left, self.options.bulk_threshold)
        log.info("Salesforce %s backfill: %d records through %s", sobject, left, via)
        pages = (
            self._bulk(sobject, fields, after_id)
            if via == "bulk"
            else self._rest(sobject, fields, after_id)
        )
        finished = True
        if progress:
            progress(done, total)
        async with contextlib.aclosing(pages):
            async for page in pages:
                if not page:
                    continue
                await emit_page(page)
                done += len(page)
                after_id = str(page[-1]["Id"])
                if resumable:
                    await self._store(key, high_stamp, after_id, done, finished=False)
                else:
                    await self.publisher.flush()
                if progress:
                    progress(done, total)
                if stop is not None and stop.is_set():
                    finished = False
                    break
        if finished and resumable:
            await self._store(key, high_stamp, after_id or "", done, finished=True)
        elif finished:
            await self.publisher.flush()
        seconds = time.monotonic() - started
        return BackfillResult(sobject, done, total, via, finished, high, resumed_after, seconds)

    async def _store(
        self, key: str, high: datetime, last_id: str, done: int, *, finished: bool
    ) -> None:
        position = Position(key, Mark(high, last_id), seq=done, snapshot_done=finished)
        await self.publisher.checkpoint(position)
        self.positions[key] = position

    async def _rest(
        self, sobject: str, fields: tuple[str, ...], after_id: str | None
    ) -> AsyncGenerator[list[dict[str, Any]], None]:
        size = self.options.batch_size
        while True:
            page = [
                r async for r in self.client.query(snapshot_soql(sobject, fields, after_id, size))
            ]
            yield page
            if len(page) < size:
                return
            after_id = str(page[-1]["Id"])

    async def _bulk(
        self, sobject: str, fields: tuple[str, ...], after_id: str | None
    ) -> AsyncGenerator[list[dict[str, Any]], None]:
        where = f" WHERE Id > {soql_quote(after_id)}" if after_id else ""
        soql = f"SELECT {', '.join(fields)} FROM {sobject}{where} ORDER BY Id"
        bulk = self.client.bulk2
        job = await bulk.create(soql)
        try:
            job = await bulk.wait(job.id, self.poll)
        except BaseException:
            await _quietly(bulk.abort(job.id))
            raise
        # Booleans and numbers are typed from describe; dates and datetimes stay text in
        # the format REST uses too, so one conversion (convert.py) serves both readers.
        described = await self.client.field_types(sobject)
        types = {k: v for k, v in described.items() if v not in ("date", "datetime")}
        try:
            async for page in bulk.pages(
                job, max_records=self.options.bulk_page_records, types=types
            ):
                yield list(page.records)
        finally:
            await _quietly(bulk.delete(job.id))


async def _quietly(call: Awaitable[Any]) -> None:
    # Clean-up only (a job expires on its own); never hide the error that brought us here.
    from connectors.salesforce.errors import SalesforceApiError, SalesforceRetriableError

    try:
        await call
    except (SalesforceApiError, SalesforceRetriableError):
        return
