"""Salesforce CDC for the polled sObjects: first load, then SOQL polling on a watermark.

Division and Organization are no Change Data Capture objects, so they are polled (and Task
too when `task_capture` is poll; otherwise Task comes from `pubsub_source`). Per sObject,
each cycle runs `queryAll` (deleted records included, IsDeleted = true -> op d) from the
watermark minus the overlap window, pages with the keyset (see `watermark`), turns every
new record into an envelope and commits the new watermark once the broker has
acknowledged them.

- Adaptive interval: an sObject is polled again `poll_interval_s` after a poll that found
  changes; each poll that found none doubles the pause, up to `idle_poll_interval_s`
  (slower still near the daily API limit). Idle, two sObjects at 180 s cost 960 calls a day.
- Reconciliation sweep: every `sweep_interval_s` a cycle re-reads `sweep_lookback_s` before
  the watermark instead of the overlap, so a row committed long after its SystemModstamp
  (a long transaction), which the watermark had passed already, is still published.
- The first load is a backfill (Bulk API 2.0 above `bulk_threshold`, REST below).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Hashable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.cdc.backfill import Backfill, BackfillResult, Progress
from connectors.cdc.changes import raw_bytes, salesforce_emission
from connectors.cdc.convert import EnvelopeError
from connectors.cdc.fields import capture_fields
from connectors.cdc.metrics import CdcMetrics
from connectors.cdc.pacing import (
    adaptive_interval,
    failure_policy,
    log_failure,
    paced_interval,
    wait_or_stop,
)
from connectors.cdc.positions import Position, pubsub_key, salesforce_key
from connectors.cdc.publisher import Publisher
from connectors.cdc.scope import Condition, ScopeTagger, Tags, check_condition
from connectors.cdc.watermark import (
    Cursor,
    Mark,
    StampTracker,
    new_records,
    poll_soql,
    record_digest,
)
from connectors.salesforce import SalesforceClient
from connectors.salesforce.formats import parse_datetime
from foundation.errors import ConfigError, FatalError, RetriableError
from foundation.settings import CaptureSettings

log = logging.getLogger(__name__)

SOURCE = "salesforce"
#: Polled records are published in pages of this many (one scope query per page).
PAGE = 2000


def mark_of(raw: Mapping[str, Any]) -> Mark:
    """The (SystemModstamp, Id) of a raw record; FatalError if Salesforce sent none."""
    try:
        stamp = raw["SystemModstamp"]
        moment = stamp if isinstance(stamp, datetime) else parse_datetime(str(stamp))
        return Mark(moment, str(raw["Id"]))
    except (KeyError, ValueError) as exc:
        raise FatalError(
            "a Salesforce record came without a readable SystemModstamp/Id; the poll cannot "
            "place it (check the sObject's field-level security for the integration user)",
            record=str(raw.get("Id")),
            field="SystemModstamp",
        ) from exc


def fingerprint(raw: Mapping[str, Any], mark: Mark) -> Hashable:
    return (mark.id, mark.stamp, record_digest(raw))


def start_position(positions: Mapping[str, Position], sobject: str) -> Position | None:
    """The stored watermark of a polled sObject; for a Task that was captured over the
    Pub/Sub API before, where that capture stopped (so switching to polling skips nothing)."""
    stored = positions.get(salesforce_key(sobject))
    if stored is None and sobject == "Task":
        streamed = positions.get(pubsub_key("/data/TaskChangeEvent"))
        if streamed is not None and streamed.mark is not None:
            return Position(
                salesforce_key(sobject), Mark(streamed.mark.stamp, ""), snapshot_done=True
            )
    return stored


class SalesforceSource:
    """The Salesforce CDC producer for the polled sObjects (`options.polled_objects()`)."""

    def __init__(
        self,
        client: SalesforceClient,
        publisher: Publisher,
        metrics: CdcMetrics,
        options: CaptureSettings,
        positions: Mapping[str, Position],
        objects: Sequence[str] | None = None,
        scope: Mapping[str, Sequence[Condition]] | None = None,
    ) -> None:
        self.client = client
        self.publisher = publisher
        self.metrics = metrics
        self.options = options
        # the flows' Salesforce scope conditions; each page of records is tagged with them
        self.scope = ScopeTagger(client, scope or {})
        self.positions = dict(positions)
        self.objects = tuple(objects if objects is not None else options.polled_objects())
        self.backoff = failure_policy(options.poll_interval_s, options.max_backoff_s)
        self.sync_user_id = ""
        self.fields: dict[str, tuple[str, ...]] = {}
        self.snapshot_done: dict[str, bool] = {}
        self.trackers: dict[str, StampTracker] = {}
        self.intervals: dict[str, float | None] = {}
        self.due: dict[str, float] = {}
        self.last_sweep: dict[str, float] = {}
        self.failures: dict[str, int] = {}
        for sobject in self.objects:
            stored = start_position(positions, sobject)
            self.snapshot_done[sobject] = bool(stored and stored.snapshot_done)
            mark = stored.mark if stored else None
            self.trackers[sobject] = StampTracker(mark, options.overlap, options.sweep_lookback)
            self.intervals[sobject] = None
            self.due[sobject] = 0.0
            self.last_sweep[sobject] = time.monotonic()
            self.failures[sobject] = 0
        self._slowed = False

    async def prepare(self) -> None:
        """Learn who we are (for origin) and which schema fields each sObject offers."""
        identity = await self.client.identity()
        self.sync_user_id = identity.user_id
        log.info(
            "Salesforce polling (%s) runs as %s (%s): changes last made by this user are "
            "tagged origin=sync",
            ", ".join(self.objects) or "nothing",
            identity.username,
            identity.user_id,
        )
        for sobject in self.objects:
            self.fields[sobject] = await capture_fields(self.client, sobject)
            for condition in self.scope.conditions.get(sobject, ()):
                problem = await check_condition(self.client, condition)
                if problem is not None:  # a condition refused now would stall every poll
                    raise ConfigError(f"{condition.where or 'the mapping file'}: {problem}")

    async def ensure_fields(self, sobject: str) -> tuple[str, ...]:
        if sobject not in self.fields:
            self.fields[sobject] = await capture_fields(self.client, sobject)
        return self.fields[sobject]

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
        tags = await self._tags(sobject, page)
        for raw in page:
            self._emit(sobject, raw, covered, snapshot, tags.get(str(raw.get("Id"))))

    async def _tags(self, sobject: str, page: Sequence[Mapping[str, Any]]) -> Tags:
        if not self.scope.limits(sobject):
            return {}
        return await self.scope.tag(sobject, [str(r["Id"]) for r in page if r.get("Id")])

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
        except EnvelopeError as exc:
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

    # -- first load -----------------------------------------------------------------------

    async def snapshot(
        self,
        sobject: str,
        *,
        stop: asyncio.Event | None = None,
        progress: Progress | None = None,
        store_position: bool = True,
    ) -> int:
        """Publish every live record as op r (a backfill); returns how many.

        With `store_position`, streaming then starts from the high watermark taken before
        the backfill began: changes made during it are published again by the poll (a
        duplicate, never a gap)."""
        result = await self.backfill(
            sobject,
            stop=stop,
            progress=progress,
            fresh=not store_position,
            first_load=store_position,
            resumable=store_position,
        )
        return result.published

    async def backfill(
        self,
        sobject: str,
        *,
        stop: asyncio.Event | None = None,
        progress: Progress | None = None,
        fresh: bool = False,
        first_load: bool = False,
        resumable: bool = True,
    ) -> BackfillResult:
        """Publish every live record of `sobject` as op r through Bulk API 2.0 or REST,
        resuming a stored run unless `fresh` (see backfill.py). As the `first_load` of a
        polled sObject it also sets and stores the watermark streaming starts from."""
        fields = await self.ensure_fields(sobject)
        backfill = Backfill(self.client, self.publisher, self.options, self.positions)
        tracker = self.trackers.get(sobject) if first_load else None

        async def emit_page(page: Sequence[Mapping[str, Any]]) -> None:
            tags = await self._tags(sobject, page)
            for raw in page:
                self._emit(sobject, raw, None, True, tags.get(str(raw.get("Id"))))
                if tracker is not None:
                    mark = mark_of(raw)
                    tracker.remember(mark, fingerprint(raw, mark))

        def on_start(high: Mark | None) -> None:
            if tracker is not None:
                tracker.reset(high)

        result = await backfill.run(
            sobject,
            fields,
            emit_page,
            stop=stop,
            progress=progress,
            fresh=fresh,
            resumable=resumable,
            on_start=on_start,
        )
        self.positions.update(backfill.positions)
        if tracker is not None and result.finished:
            high = result.high
            position = Position(salesforce_key(sobject), high, snapshot_done=True)
            await self.publisher.checkpoint(position)
            tracker.committed = tracker.high = high
            self.snapshot_done[sobject] = True
        log.info(
            "Salesforce %s backfill: %d records published as op r through %s in %.1fs",
            sobject,
            result.published,
            result.via,
            result.seconds,
        )
        return result

    # -- streaming ------------------------------------------------------------------------

    def _fetch(self, sobject: str) -> Callable[[Cursor | None, int | None], AsyncIterator[Any]]:
        fields = self.fields[sobject]

        def fetch(cursor: Cursor | None, limit: int | None) -> AsyncIterator[Any]:
            return self.client.query_all(
                poll_soql(sobject, fields, cursor, limit or self.options.batch_size)
            )

        return fetch

    async def poll(
        self, sobject: str, stop: asyncio.Event | None = None, sweep: bool = False
    ) -> int:
        """One poll cycle of one sObject (a sweep re-reads `sweep_lookback_s`); returns the
        number of envelopes published."""
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
            lookback=self.options.sweep_lookback if sweep else None,
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
        if sweep:
            self.metrics.reconciliations.labels(SOURCE, sobject, "sweep").inc()
            if count:
                log.info(
                    "Salesforce %s sweep found %d changes the polls had missed", sobject, count
                )
        self.metrics.poll_seconds.labels(SOURCE, sobject).observe(time.monotonic() - started)
        if tracker.high is not None:
            lag = (datetime.now(UTC) - tracker.high.stamp).total_seconds()
            self.metrics.lag_seconds.labels(SOURCE, sobject).set(max(lag, 0.0))
        return count

    def interval(self, sobject: str, changed: bool) -> float:
        """The pause before polling `sobject` again: adaptive, longer near the API limit."""
        base = adaptive_interval(
            self.intervals[sobject],
            changed,
            self.options.poll_interval_s,
            self.options.idle_poll_interval_s,
        )
        self.intervals[sobject] = base
        usage = self.client.api_usage
        fraction = usage.fraction if usage else None
        seconds = paced_interval(base, fraction, self.options.usage_threshold)
        if fraction is not None:
            self.metrics.api_usage.set(fraction)
        self.metrics.poll_interval.labels(SOURCE).set(seconds)
        slowed = seconds > base
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

    async def cycle(self, sobject: str, stop: asyncio.Event) -> float:
        """First load or one poll of `sobject`; the pause before its next turn."""
        if not self.snapshot_done[sobject]:
            await self.snapshot(sobject, stop=stop)
            return self.interval(sobject, changed=True)
        now = time.monotonic()
        sweep = now - self.last_sweep[sobject] >= self.options.sweep_interval_s
        found = await self.poll(sobject, stop, sweep=sweep)
        if sweep:
            self.last_sweep[sobject] = now
        return self.interval(sobject, changed=found > 0)

    async def run(self, stop: asyncio.Event) -> None:
        """First-load what was never loaded, then poll each sObject on its own schedule."""
        while not stop.is_set() and self.objects:
            for sobject in self.objects:
                if stop.is_set() or self.due[sobject] > time.monotonic():
                    continue
                try:
                    delay = await self.cycle(sobject, stop)
                    self.failures[sobject] = 0
                except (RetriableError, FatalError) as exc:
                    self.failures[sobject] += 1
                    retry_after = exc.retry_after if isinstance(exc, RetriableError) else None
                    delay = self.backoff.delay(self.failures[sobject], retry_after)
                    self.metrics.poll_errors.labels(SOURCE).inc()
                    log_failure(log, f"Salesforce CDC poll of {sobject}", exc, delay)
                    self.trackers[sobject].rollback()
                    self.publisher.reset()
                self.due[sobject] = time.monotonic() + delay
            await wait_or_stop(stop, min(self.due.values()) - time.monotonic())
