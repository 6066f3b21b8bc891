"""Custompms CDC: tail the change feed (exact, ordered, with deletes), or poll as a fallback.

Feed mode reads `GET /changes?after=<seq>` page by page, publishes one envelope per entry
and commits the last seq once the broker acknowledged the page. Poll mode lists each
resource with `updated_since` (inclusive) on an (updated_at, id) watermark, de-duplicated by
(id, version); it sees deletes only as tombstones (`include_deleted`), and cannot tell who
made a change (origin unknown).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.cdc.changes import (
    custompms_origin,
    feed_emission,
    polled_emission,
    raw_bytes,
    raw_bytes_of,
)
from connectors.cdc.convert import EnvelopeError
from connectors.cdc.metrics import CdcMetrics
from connectors.cdc.pacing import failure_policy, log_failure, wait_or_stop
from connectors.cdc.positions import FEED_KEY, Position, poll_key
from connectors.cdc.publisher import Publisher
from connectors.cdc.watermark import Cursor, Mark, StampTracker, new_records
from connectors.custompms import CustompmsClient, CustompmsFatalError, FeedEntry, MalformedFeedEntry
from connectors.custompms.formats import parse_timestamp
from foundation.entities import ENTITY_RESOURCE, RESOURCE_ENTITY
from foundation.errors import FatalError, RetriableError
from foundation.settings import CaptureSettings

log = logging.getLogger(__name__)

SOURCE = "custompms"
Progress = Callable[[int, int | None], None]


async def feed_head(first_after: Callable[[int], Awaitable[int | None]]) -> int:
    """The newest seq of the feed (0 when empty), in O(log n) probes.

    `first_after(k)` is the seq of the first change after `k`, or None when there is none.
    """
    lo = await first_after(0)
    if lo is None:
        return 0
    step = 1
    while True:  # gallop: find some hi with nothing after it
        found = await first_after(lo + step)
        if found is None:
            hi = lo + step
            break
        lo, step = found, step * 2
    while lo < hi:  # invariant: seq lo exists and nothing comes after hi
        mid = (lo + hi) // 2
        found = await first_after(mid)
        if found is None:
            hi = mid
        else:
            lo = found
    return lo


def poll_mark(raw: Mapping[str, Any]) -> Mark:
    try:
        return Mark(parse_timestamp(str(raw["updated_at"])), str(raw["id"]))
    except (KeyError, ValueError) as exc:
        raise FatalError(
            "a Custompms record came without a readable updated_at/id; polling cannot place it",
            record=str(raw.get("id")),
            field="updated_at",
        ) from exc


def poll_fingerprint(raw: Mapping[str, Any], mark: Mark) -> Hashable:
    return (mark.id, raw.get("version"))


class CustompmsSource:
    """The Custompms CDC producer (feed or poll mode, see the module docstring)."""

    def __init__(
        self,
        client: CustompmsClient,
        publisher: Publisher,
        metrics: CdcMetrics,
        options: CaptureSettings,
        positions: Mapping[str, Position],
        client_name: str,
    ) -> None:
        self.client = client
        self.publisher = publisher
        self.metrics = metrics
        self.options = options
        self.backoff = failure_policy(options.poll_interval_s, options.max_backoff_s)
        self.client_name = client_name
        feed = positions.get(FEED_KEY)
        self.seq: int | None = feed.seq if feed else None
        self.mode = options.custompms_mode
        self.trackers = {
            entity: StampTracker(
                (positions.get(poll_key(entity)) or Position(poll_key(entity))).mark,
                timedelta(0),  # updated_at never goes backwards in commit order: no skew
            )
            for entity in ENTITY_RESOURCE
        }

    async def prepare(self) -> None:
        """Choose feed or poll mode and where the feed starts."""
        if self.mode == "auto":
            self.mode = "feed" if await self._feed_offered() else "poll"
            if self.mode == "poll":
                log.warning(
                    "the Custompms API offers no change feed; polling updated_since instead "
                    "(deletes are seen only as tombstones, origin is unknown)"
                )
        if self.mode == "feed" and self.seq is None:
            seq = await feed_head(self._first_after) if self.options.from_now else 0
            # Stored at once: a restart before the first change must not re-take the head
            # (that would skip what changed while it was down).
            await self.publisher.checkpoint(Position(FEED_KEY, seq=seq))
            self.seq = seq
            log.info("Custompms feed: no stored position, starting after seq %d", seq)

    async def _feed_offered(self) -> bool:
        try:
            await self.client.changes(after=0, limit=1)
        except CustompmsFatalError as exc:
            if exc.status in (404, 405):
                return False
            raise
        except RetriableError:
            return True  # it exists but is struggling; the run loop retries
        return True

    async def _first_after(self, after: int) -> int | None:
        page = await self.client.changes(after=after, limit=1)
        return page.changes[0].seq if page.changes else None

    # -- feed -----------------------------------------------------------------------------

    def _emit_change(self, change: FeedEntry) -> None:
        if custompms_origin(change.actor, self.client_name) == "sync":
            # The sync's own write: its result already told the engine what the record now
            # holds (version and values), so the echo would carry nothing new. Not published,
            # counted (docs/cdc.md, "Echoes").
            entity = RESOURCE_ENTITY.get(change.resource, change.resource)
            self.metrics.echoes_skipped.labels(SOURCE, entity).inc()
            return
        try:
            emission = feed_emission(change, client_name=self.client_name, now=datetime.now(UTC))
            self.publisher.publish(emission)
        except EnvelopeError as exc:
            entity = RESOURCE_ENTITY.get(change.resource, change.resource)
            self.publisher.dead_letter(
                exc, system=SOURCE, entity=entity, key=change.id, raw=raw_bytes(change)
            )

    def _emit_malformed(self, entry: MalformedFeedEntry) -> None:
        """A feed entry the client could not read: dead-lettered, the feed goes on."""
        entity = RESOURCE_ENTITY.get(entry.resource or "", "project")
        error = EnvelopeError(
            f"cannot read change-feed entry {entry.seq} ({entry.resource} {entry.id}): "
            f"{entry.reason}; the feed must follow docs/custompms-api.md",
            system=SOURCE,
            entity=entity,
            record=entry.id,
            field=None,
        )
        self.publisher.dead_letter(
            error, system=SOURCE, entity=entity, key=entry.id, raw=raw_bytes_of(entry.raw)
        )

    async def read_feed(self, stop: asyncio.Event | None = None) -> int:
        """Publish every change after the stored seq; returns how many."""
        assert self.seq is not None, "prepare() first"
        total = 0
        while stop is None or not stop.is_set():
            started = time.monotonic()
            page = await self.client.changes(after=self.seq, limit=self.options.feed_page_size)
            for change in page.changes:
                self._emit_change(change)
            for entry in page.malformed:
                self._emit_malformed(entry)
            entries = len(page.changes) + len(page.malformed)
            if entries:
                last = max([page.next, *(c.seq for c in page.changes)])
                await self.publisher.checkpoint(Position(FEED_KEY, seq=last))
                self.seq = last
                total += len(page.changes)
            if page.changes:
                newest = page.changes[-1]
                try:
                    lag = (datetime.now(UTC) - parse_timestamp(newest.at)).total_seconds()
                    self.metrics.lag_seconds.labels(SOURCE, "feed").set(max(lag, 0.0))
                except ValueError:
                    pass
            self.metrics.poll_seconds.labels(SOURCE, "feed").observe(time.monotonic() - started)
            if entries < self.options.feed_page_size:
                break
        return total

    # -- poll mode and snapshot -----------------------------------------------------------

    def _emit_record(
        self, resource: str, raw: Mapping[str, Any], covered: datetime | None, snapshot: bool
    ) -> None:
        try:
            emission = polled_emission(
                resource, raw, covered=covered, snapshot=snapshot, now=datetime.now(UTC)
            )
            self.publisher.publish(emission)
        except EnvelopeError as exc:
            key = str(raw.get("id")) if raw.get("id") is not None else None
            self.publisher.dead_letter(
                exc,
                system=SOURCE,
                entity=RESOURCE_ENTITY[resource],
                key=key,
                raw=raw_bytes(raw),
            )

    async def poll(self, entity: str, stop: asyncio.Event | None = None) -> int:
        """One `updated_since` poll of one resource; returns the envelopes published."""
        resource = ENTITY_RESOURCE[entity]
        tracker = self.trackers[entity]
        covered = tracker.high.stamp if tracker.high else None
        started = time.monotonic()

        def fetch(cursor: Cursor | None, _limit: int | None) -> AsyncIterator[Any]:
            return self.client.list(
                resource,
                updated_since=cursor.stamp if cursor else None,
                include_deleted=self.options.include_deleted,
                limit=1000,
            )

        count = 0
        records = new_records(
            tracker,
            fetch,
            limit=None,
            mark_of=poll_mark,
            fingerprint_of=poll_fingerprint,
            stopping=lambda: stop is not None and stop.is_set(),
        )
        async for raw in records:
            self._emit_record(resource, raw, covered, snapshot=False)
            count += 1
        if tracker.dirty:
            await self.publisher.checkpoint(Position(poll_key(entity), tracker.high))
            tracker.commit()
        else:
            await self.publisher.flush()
        self.metrics.poll_seconds.labels(SOURCE, entity).observe(time.monotonic() - started)
        return count

    async def snapshot(
        self, entity: str, *, stop: asyncio.Event | None = None, progress: Progress | None = None
    ) -> int:
        """Publish every live record of a resource as op r; returns how many."""
        resource = ENTITY_RESOURCE[entity]
        done = 0
        async for raw in self.client.list(resource, limit=1000):
            if stop is not None and stop.is_set():
                break
            self._emit_record(resource, raw, None, snapshot=True)
            done += 1
            if progress:
                progress(done, None)
        await self.publisher.flush()
        log.info("Custompms %s snapshot: %d records published as op r", entity, done)
        return done

    # -- the loop -------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Tail the feed (or poll) until `stop` is set."""
        failures = 0
        while not stop.is_set():
            try:
                if self.mode == "feed":
                    await self.read_feed(stop)
                else:
                    for entity in ENTITY_RESOURCE:
                        if stop.is_set():
                            break
                        await self.poll(entity, stop)
                failures = 0
                delay = self.options.poll_interval_s
            except (RetriableError, FatalError) as exc:
                failures += 1
                retry_after = exc.retry_after if isinstance(exc, RetriableError) else None
                delay = self.backoff.delay(failures, retry_after)
                self.metrics.poll_errors.labels(SOURCE).inc()
                log_failure(log, "Custompms CDC read", exc, delay)
                for tracker in self.trackers.values():
                    tracker.rollback()
                self.publisher.reset()
            self.metrics.poll_interval.labels(SOURCE).set(delay)
            await wait_or_stop(stop, delay)
