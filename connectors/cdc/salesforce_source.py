"""Salesforce CDC: snapshot, then SOQL polling on a (SystemModstamp, Id) watermark.

Per sObject, each cycle runs `queryAll` (deleted records included, IsDeleted = true -> op d)
from the watermark minus the overlap window, pages with the keyset (see `watermark`), turns
every new record into an envelope and commits the new watermark once the broker has
acknowledged them. The client does OAuth refresh and 5xx/timeout retries; this loop retries
what is left with backoff and slows down near the daily API limit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Hashable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.cdc.changes import raw_bytes, salesforce_emission
from connectors.cdc.convert import ConversionError
from connectors.cdc.metrics import CdcMetrics
from connectors.cdc.pacing import failure_policy, log_failure, paced_interval, wait_or_stop
from connectors.cdc.positions import Position, salesforce_key
from connectors.cdc.publisher import Publisher
from connectors.cdc.reader import capture_fields
from connectors.cdc.scope import Condition, ScopeTagger, Tags, check_condition
from connectors.cdc.watermark import (
    Cursor,
    Mark,
    StampTracker,
    head_soql,
    new_records,
    poll_soql,
    record_digest,
    snapshot_soql,
)
from connectors.salesforce import SalesforceClient
from connectors.salesforce.formats import parse_datetime
from foundation.errors import ConfigError, FatalError, RetriableError
from foundation.settings import CaptureSettings

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]
SOURCE = "salesforce"
#: Polled records are published in pages of this many (one scope query per page).
PAGE = 2000


def mark_of(raw: Mapping[str, Any]) -> Mark:
    """The (SystemModstamp, Id) of a raw record; FatalError if Salesforce sent none."""
    try:
        return Mark(parse_datetime(str(raw["SystemModstamp"])), str(raw["Id"]))
    except (KeyError, ValueError) as exc:
        raise FatalError(
            "a Salesforce record came without a readable SystemModstamp/Id; the poll cannot "
            "place it (check the sObject's field-level security for the integration user)",
            record=str(raw.get("Id")),
            field="SystemModstamp",
        ) from exc


def fingerprint(raw: Mapping[str, Any], mark: Mark) -> Hashable:
    return (mark.id, mark.stamp, record_digest(raw))


class SalesforceSource:
    """The Salesforce CDC producer for the sObjects in `options.salesforce_objects`."""

    def __init__(
        self,
        client: SalesforceClient,
        publisher: Publisher,
        metrics: CdcMetrics,
        options: CaptureSettings,
        positions: Mapping[str, Position],
        scope: Mapping[str, Sequence[Condition]] | None = None,
    ) -> None:
        self.client = client
        self.publisher = publisher
        self.metrics = metrics
        self.options = options
        # the flows' Salesforce scope conditions; each page of records is tagged with them
        self.scope = ScopeTagger(client, scope or {})
        self.backoff = failure_policy(options.poll_interval_s, options.max_backoff_s)
        self.sync_user_id = ""
        self.fields: dict[str, tuple[str, ...]] = {}
        self.snapshot_done: dict[str, bool] = {}
        self.trackers: dict[str, StampTracker] = {}
        for sobject in options.salesforce_objects:
            stored = positions.get(salesforce_key(sobject))
            self.snapshot_done[sobject] = bool(stored and stored.snapshot_done)
            mark = stored.mark if stored else None
            self.trackers[sobject] = StampTracker(mark, options.overlap)
        self._slowed = False

    async def prepare(self) -> None:
        """Learn who we are (for origin) and which schema fields each sObject offers."""
        identity = await self.client.identity()
        self.sync_user_id = identity.user_id
        log.info(
            "Salesforce CDC runs as %s (%s): changes by this user are tagged origin=sync",
            identity.username,
            identity.user_id,
        )
        for sobject in self.options.salesforce_objects:
            self.fields[sobject] = await capture_fields(self.client, sobject)
            for condition in self.scope.conditions.get(sobject, ()):
                problem = await check_condition(self.client, condition)
                if problem is not None:  # a condition refused now would stall every poll
                    raise ConfigError(f"{condition.where or 'the mapping file'}: {problem}")

    # -- publishing -----------------------------------------------------------------------

    async def _emit_page(
        self,
        sobject: str,
        page: Sequence[Mapping[str, Any]],
        covered: datetime | None,
        snapshot: bool,
    ) -> None:
        """Publish a page of records, each tagged with its flows' scope (one query per
        scope condition and page, only when a flow of the sObject has one)."""
        tags: Tags = {}
        if self.scope.limits(sobject):
            ids = [str(raw["Id"]) for raw in page if raw.get("Id") is not None]
            tags = await self.scope.tag(sobject, ids)
        for raw in page:
            self._emit(sobject, raw, covered, snapshot, tags.get(str(raw.get("Id"))))

    def _emit(
        self,
        sobject: str,
        raw: Mapping[str, Any],
        covered: datetime | None,
        snapshot: bool,
        scope: Mapping[str, bool] | None = None,
    ) -> None:
        try:
            emission = salesforce_emission(
                sobject,
                raw,
                sync_user_id=self.sync_user_id,
                covered=covered,
                snapshot=snapshot,
                now=datetime.now(UTC),
                scope=scope,
            )
            self.publisher.publish(emission)
        except ConversionError as exc:
            key = str(raw.get("Id")) if raw.get("Id") is not None else None
            self.publisher.dead_letter(
                exc, system=SOURCE, entity=sobject, key=key, raw=raw_bytes(raw)
            )

    async def _commit(self, sobject: str) -> None:
        tracker = self.trackers[sobject]
        if not tracker.dirty and self.snapshot_done[sobject]:
            await self.publisher.flush()  # dead letters, if any
            return
        position = Position(salesforce_key(sobject), tracker.high, snapshot_done=True)
        await self.publisher.checkpoint(position)
        tracker.commit()

    # -- snapshot -------------------------------------------------------------------------

    async def head(self, sobject: str) -> Mark | None:
        """The newest (SystemModstamp, Id) of an sObject, deleted records included."""
        async for raw in self.client.query_all(head_soql(sobject)):
            return mark_of(raw)
        return None

    async def snapshot(
        self,
        sobject: str,
        *,
        stop: asyncio.Event | None = None,
        progress: Progress | None = None,
        store_position: bool = True,
    ) -> int:
        """Publish every live record as op r; returns how many.

        With `store_position`, streaming then starts from the high watermark taken before the
        snapshot began: changes made during the snapshot are published again by the poll
        (a duplicate, never a gap).
        """
        fields = self.fields[sobject]
        high = await self.head(sobject)
        count_soql = f"SELECT COUNT() FROM {sobject}"  # noqa: S608 - sObject from our list
        total = await self.client.count(count_soql) if progress else None
        tracker = self.trackers[sobject]
        if store_position:
            tracker.reset(high)
        done, after_id, finished = 0, None, False
        while not finished:
            if stop is not None and stop.is_set():
                await self.publisher.flush()
                return done  # stopped: no position, so the snapshot starts over next time
            soql = snapshot_soql(sobject, fields, after_id, self.options.batch_size)
            page = [raw async for raw in self.client.query(soql)]
            await self._emit_page(sobject, page, None, snapshot=True)
            for raw in page:
                after_id = str(raw["Id"])
                if store_position:
                    mark = mark_of(raw)
                    tracker.remember(mark, fingerprint(raw, mark))
                done += 1
                if progress:
                    progress(done, total)
            finished = len(page) < self.options.batch_size
        if store_position:
            await self.publisher.checkpoint(
                Position(salesforce_key(sobject), high, snapshot_done=True)
            )
            self.snapshot_done[sobject] = True
        else:
            await self.publisher.flush()
        log.info("Salesforce %s snapshot: %d records published as op r", sobject, done)
        return done

    # -- streaming ------------------------------------------------------------------------

    def _fetch(self, sobject: str) -> Callable[[Cursor | None, int | None], AsyncIterator[Any]]:
        fields = self.fields[sobject]

        def fetch(cursor: Cursor | None, limit: int | None) -> AsyncIterator[Any]:
            return self.client.query_all(
                poll_soql(sobject, fields, cursor, limit or self.options.batch_size)
            )

        return fetch

    async def poll(self, sobject: str, stop: asyncio.Event | None = None) -> int:
        """One poll cycle of one sObject; returns the number of envelopes published."""
        tracker = self.trackers[sobject]
        covered = tracker.high.stamp if tracker.high else None
        started = time.monotonic()
        count = 0
        records = new_records(
            tracker,
            self._fetch(sobject),
            limit=self.options.batch_size,
            mark_of=mark_of,
            fingerprint_of=fingerprint,
            stopping=lambda: stop is not None and stop.is_set(),
        )
        page: list[Mapping[str, Any]] = []
        async for raw in records:
            page.append(raw)
            if len(page) >= PAGE:
                await self._emit_page(sobject, page, covered, snapshot=False)
                count, page = count + len(page), []
        await self._emit_page(sobject, page, covered, snapshot=False)
        count += len(page)
        await self._commit(sobject)
        self.metrics.poll_seconds.labels(SOURCE, sobject).observe(time.monotonic() - started)
        if tracker.high is not None:
            lag = (datetime.now(UTC) - tracker.high.stamp).total_seconds()
            self.metrics.lag_seconds.labels(SOURCE, sobject).set(max(lag, 0.0))
        return count

    def interval(self) -> float:
        """The pause before the next cycle, longer near the daily API limit."""
        usage = self.client.api_usage
        fraction = usage.fraction if usage else None
        seconds = paced_interval(
            self.options.poll_interval_s, fraction, self.options.usage_threshold
        )
        if fraction is not None:
            self.metrics.api_usage.set(fraction)
        self.metrics.poll_interval.labels(SOURCE).set(seconds)
        slowed = seconds > self.options.poll_interval_s
        if slowed != self._slowed and usage is not None:
            self._slowed = slowed
            if slowed:
                log.warning(
                    "Salesforce API usage %d/%d (%.0f%%): polling slowed to every %.1fs",
                    usage.used,
                    usage.limit,
                    usage.fraction * 100,
                    seconds,
                )
            else:
                log.info("Salesforce API usage back to normal; polling every %.1fs", seconds)
        return seconds

    async def run(self, stop: asyncio.Event) -> None:
        """Snapshot what was never snapshotted, then poll until `stop` is set."""
        failures = 0
        current = self.options.salesforce_objects[0]
        while not stop.is_set():
            try:
                for sobject in self.options.salesforce_objects:
                    current = sobject
                    if stop.is_set():
                        break
                    if not self.snapshot_done[sobject]:
                        await self.snapshot(sobject, stop=stop)
                    else:
                        await self.poll(sobject, stop)
                failures = 0
                delay = self.interval()
            except (RetriableError, FatalError) as exc:
                failures += 1
                retry_after = exc.retry_after if isinstance(exc, RetriableError) else None
                delay = self.backoff.delay(failures, retry_after)
                self.metrics.poll_errors.labels(SOURCE).inc()
                log_failure(log, "Salesforce CDC poll", exc, delay)
                self.trackers[current].rollback()
                self.publisher.reset()
            await wait_or_stop(stop, delay)
