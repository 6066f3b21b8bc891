"""Salesforce Task capture through Change Data Capture over the Pub/Sub API.

One subscription to `/data/TaskChangeEvent`. Per batch of events (whatever arrived within
`pubsub_linger_s` of the first, up to 2,000): one read of the full state of the records
they name (`queryAll SELECT ... WHERE Id IN (...)`, deleted records included, 300 ids a
call), one envelope per record (op and origin from the events, `pubsub_batch.py`), and
only once the broker has acknowledged them the replay
id of the batch's last event (or keepalive) goes to the positions topic, with the commit
time up to which everything is published (the *good point*). A restart, even after
kill -9, subscribes after the stored replay id: nothing is skipped, and the envelopes
published again carry the same states, which the engine recognises (no second write).

Never a silent gap:
- no stored replay id (first start after the first load, or a stored one Salesforce
  refuses: ReplayIdInvalid, older than the 72-hour retention): subscribe from LATEST and
  reconcile (`queryAll` by SystemModstamp) from the good point minus the overlap, once
  right away and once more when the stream has answered (so it covers the subscription's
  starting point);
- gap events (GAP_CREATE/UPDATE/DELETE/UNDELETE): their record ids are read like any other;
- GAP_OVERFLOW (a transaction too large for events): reconcile from its commit time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.cdc.backfill import Backfill
from connectors.cdc.batching import Batches
from connectors.cdc.changes import Op, raw_bytes, salesforce_emission
from connectors.cdc.convert import EnvelopeError
from connectors.cdc.fields import capture_fields
from connectors.cdc.metrics import CdcMetrics
from connectors.cdc.pacing import failure_policy, log_failure, wait_or_stop
from connectors.cdc.positions import Position, pubsub_key, salesforce_key
from connectors.cdc.publisher import Publisher
from connectors.cdc.pubsub_batch import (
    Touched,
    plan_batch,
    record_op,
    record_origin,
    records_soql,
    short_id,
)
from connectors.cdc.reconcile import changed_since
from connectors.cdc.watermark import Mark
from connectors.salesforce import SalesforceClient
from connectors.salesforce.formats import parse_datetime
from connectors.salesforce.pubsub import (
    ChangeEvent,
    EventDecodeError,
    KeepAlive,
    PubSubApiError,
    PubSubClient,
    ReplayIdInvalid,
    ReplayStart,
)
from foundation.errors import ConfigError, FatalError, RetriableError
from foundation.settings import CaptureSettings
from foundation.wire.values import Origin

log = logging.getLogger(__name__)

SOURCE = "salesforce"
#: Records are read by SOQL in the URL (GET): this many ids keep it well under 16 kB.
QUERY_IDS = 300
#: Most events one batch takes before it reads and publishes.
MAX_BATCH = 2000
#: record id -> {flow: in scope}; see `scope_tags`.
Tags = Mapping[str, Mapping[str, bool]]
ScopeHook = Callable[[str, Sequence[str]], Awaitable[Tags]]


class PubSubSource:
    """Change Data Capture of one sObject (Task) into its change topic."""

    def __init__(
        self,
        client: SalesforceClient,
        pubsub: PubSubClient,
        publisher: Publisher,
        metrics: CdcMetrics,
        options: CaptureSettings,
        positions: Mapping[str, Position],
        *,
        client_name: str,
        sobject: str = "Task",
        scope: ScopeHook | None = None,
    ) -> None:
        self.client = client
        self.pubsub = pubsub
        self.publisher = publisher
        self.metrics = metrics
        self.options = options
        self.positions = dict(positions)
        self.client_name = client_name
        self.sobject = sobject
        self.topic = f"/data/{sobject}ChangeEvent"
        self.key = pubsub_key(self.topic)
        self.position = self._start(positions)
        self.fields: tuple[str, ...] = ()
        self.scope = scope
        self.failures = 0
        self.backoff = failure_policy(options.poll_interval_s, options.max_backoff_s)

    def _start(self, positions: Mapping[str, Position]) -> Position:
        stored = positions.get(self.key)
        if stored is not None:
            return stored
        polled = positions.get(salesforce_key(self.sobject))
        if polled is not None and polled.snapshot_done and polled.mark is not None:
            # Polled before: stream from where the poll stopped (reconciling from there).
            return Position(self.key, Mark(polled.mark.stamp, ""), snapshot_done=True)
        return Position(self.key)

    async def prepare(self) -> None:
        """Check the topic (Change Data Capture enabled for the sObject) and the fields."""
        self.fields = await capture_fields(self.client, self.sobject)
        try:
            info = await self.pubsub.get_topic(self.topic)
        except PubSubApiError as exc:
            raise ConfigError(
                f"the Pub/Sub API refused {self.topic} ({exc.status}: {exc}); enable Change "
                f"Data Capture for {self.sobject} (Setup > Integrations > Change Data "
                "Capture) and give the integration user View All Data, or capture it by "
                "polling: SFPMS_CAPTURE__TASK_CAPTURE=poll"
            ) from exc
        if not info.can_subscribe:
            raise ConfigError(
                f"the integration user may not subscribe to {self.topic}; it needs View All "
                f"Data (Task has no per-object View All), or set SFPMS_CAPTURE__TASK_CAPTURE=poll"
            )
        log.info(
            "Salesforce %s capture: Change Data Capture on %s at %s (%s)",
            self.sobject,
            self.topic,
            self.pubsub.endpoint,
            f"after replay id {self.position.replay_id.hex()}"
            if self.position.replay_id
            else "no replay id stored: from LATEST with a reconciliation",
        )

    # -- the loop --------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """First load if never done, then stream until `stop`; failures back off and resume
        from the stored position."""
        while not stop.is_set():
            try:
                if not self.position.snapshot_done:
                    await self.first_load(stop)
                else:
                    await self.stream(stop)
                self.failures = 0
            except (ReplayIdInvalid, EventDecodeError) as exc:
                # The events after the stored point cannot be read: reconcile from the good
                # point instead (see the module docstring). Not stored until it is done.
                log.warning(
                    "Salesforce %s: %s; reconciling the records changed since %s, then "
                    "streaming from the latest event",
                    self.sobject,
                    exc,
                    self.good_point(),
                )
                self.position = Position(
                    self.key, self.position.mark, snapshot_done=True, replay_id=None
                )
            except (RetriableError, FatalError) as exc:
                self.failures += 1
                retry_after = exc.retry_after if isinstance(exc, RetriableError) else None
                delay = self.backoff.delay(self.failures, retry_after)
                self.metrics.poll_errors.labels(SOURCE).inc()
                log_failure(
                    log,
                    f"Salesforce {self.sobject} capture (resumes from the stored position)",
                    exc,
                    delay,
                )
                self.publisher.reset()
                await wait_or_stop(stop, delay)

    async def first_load(self, stop: asyncio.Event) -> None:
        """Publish every live record (a backfill), then hand over to streaming from the
        high watermark taken before it."""
        backfill = Backfill(self.client, self.publisher, self.options, self.positions)

        async def emit_page(page: Sequence[Mapping[str, Any]]) -> None:
            tags = await self.scope_tags([str(raw["Id"]) for raw in page if raw.get("Id")])
            for raw in page:
                self._publish(raw, snapshot=True, scope=tags.get(str(raw.get("Id"))))

        result = await backfill.run(self.sobject, self.fields, emit_page, stop=stop)
        self.positions.update(backfill.positions)
        if not result.finished:
            return
        mark = Mark(result.high.stamp if result.high else datetime(1970, 1, 1, tzinfo=UTC), "")
        self.position = Position(self.key, mark, snapshot_done=True)
        await self.publisher.checkpoint(self.position)
        log.info(
            "Salesforce %s first load: %d records through %s in %.1fs",
            self.sobject,
            result.published,
            result.via,
            result.seconds,
        )

    async def stream(self, stop: asyncio.Event) -> None:
        """One subscription, batch by batch, until `stop` or a failure."""
        replay = self.position.replay_id
        start = ReplayStart.after(replay) if replay else ReplayStart.latest()
        if replay is None:
            await self.reconcile(self.good_point(), "resume", covered=self.published_until())
        pending = replay is None  # reconcile again once the stream has answered
        subscription = self.pubsub.subscribe(
            self.topic, start, batch_size=self.options.pubsub_batch_size
        )
        async with subscription:
            batches: Batches[ChangeEvent | KeepAlive] = Batches(
                subscription, max_items=MAX_BATCH, linger_s=self.options.pubsub_linger_s
            )
            try:
                async for batch in batches.iter(stop):
                    if pending:
                        await self.reconcile(
                            self.good_point(), "resume", covered=self.published_until()
                        )
                        pending = False
                    await self.handle(batch)
                    self.metrics.streaming.labels(SOURCE, self.sobject).set(1)
                    self.failures = 0
            finally:
                self.metrics.streaming.labels(SOURCE, self.sobject).set(0)
                await batches.aclose()

    def published_until(self) -> datetime | None:
        """The stored good point: every change committed before it is published."""
        mark = self.position.mark
        if mark is None or mark.stamp.year <= 1970:
            return None
        return mark.stamp

    def good_point(self) -> datetime | None:
        """Where a reconciliation starts: the good point minus the overlap (clock skew)."""
        until = self.published_until()
        return until - self.options.overlap if until is not None else None

    # -- one batch ---------------------------------------------------------------------------

    async def handle(self, batch: Sequence[ChangeEvent | KeepAlive]) -> int:
        """Read, publish and checkpoint one batch; the number of envelopes published."""
        plan = plan_batch(batch, self.client_name)
        for item in batch:
            if isinstance(item, ChangeEvent):
                self.metrics.pubsub_events.labels(self.sobject, item.header.change_type).inc()
        states = await self.read([t.record_id for t in plan.touched])
        tags = await self.scope_tags([t.record_id for t in plan.touched])
        for touched in plan.touched:
            self._publish_touched(touched, states.get(short_id(touched.record_id)), tags)
        published = len(plan.touched)
        if plan.overflow_since is not None:
            since = plan.overflow_since - self.options.overlap
            published += await self.reconcile(since, "overflow", covered=since)
        if any(t.origins and "unknown" in t.origins for t in plan.touched):
            self.metrics.reconciliations.labels(SOURCE, self.sobject, "gap").inc()
        await self._checkpoint(plan.replay_id, plan.newest_commit, bool(published))
        return published

    async def _checkpoint(self, replay: bytes | None, newest: datetime | None, dirty: bool) -> None:
        if replay is None or replay == self.position.replay_id:
            if dirty:
                await self.publisher.flush()
            return
        point = newest or datetime.now(UTC)  # a keepalive: everything so far is published
        old = self.position.mark
        if old is not None and old.stamp > point:
            point = old.stamp
        position = Position(self.key, Mark(point, ""), snapshot_done=True, replay_id=replay)
        await self.publisher.checkpoint(position)
        self.position = position

    async def read(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The current state of `ids` (15-character id -> record), deleted ones included
        (`queryAll`, one call per 300 ids); gone for good (purged from the recycle bin):
        absent."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), QUERY_IDS):
            chunk = ids[start : start + QUERY_IDS]
            self.metrics.state_reads.labels(self.sobject).inc()
            soql = records_soql(self.sobject, self.fields, chunk)
            async for record in self.client.query_all(soql):
                found[short_id(str(record["Id"]))] = record
        return found

    async def scope_tags(self, ids: Sequence[str]) -> Tags:
        """The flows' scope tags of `ids` ({} = no flow limits its scope): the runner passes
        `connectors.cdc.scope.ScopeTagger.tag`, one `SELECT Id FROM Task WHERE Id IN (...)
        AND (<scope>)` per batch and scoped flow; the tags go into `source.scope`."""
        if self.scope is None or not ids:
            return {}
        return await self.scope(self.sobject, ids)

    # -- envelopes ---------------------------------------------------------------------------

    def _publish_touched(self, touched: Touched, raw: Mapping[str, Any] | None, tags: Tags) -> None:
        record: Mapping[str, Any] = raw or {"Id": touched.record_id, "IsDeleted": True}
        stamp = record.get("SystemModstamp")
        modstamp = parse_datetime(str(stamp)) if stamp else None
        self._publish(
            record,
            origin=record_origin(touched, modstamp),
            op=record_op(touched, raw),
            commit_ts=touched.last_commit,
            scope=tags.get(touched.record_id),
        )

    def _publish(
        self,
        raw: Mapping[str, Any],
        *,
        snapshot: bool = False,
        origin: Origin | None = None,
        op: Op | None = None,
        commit_ts: datetime | None = None,
        covered: datetime | None = None,
        scope: Mapping[str, bool] | None = None,
    ) -> None:
        try:
            emission = salesforce_emission(
                self.sobject,
                raw,
                sync_user_id="",
                covered=covered,
                snapshot=snapshot,
                now=datetime.now(UTC),
                origin=origin or "unknown",
                op=op,
                commit_ts=commit_ts,
                scope=scope,
            )
            self.publisher.publish(emission)
        except EnvelopeError as exc:
            key = str(raw.get("Id")) if raw.get("Id") is not None else None
            self.publisher.dead_letter(
                exc, system=SOURCE, entity=self.sobject, key=key, raw=raw_bytes(raw)
            )

    async def reconcile(
        self, since: datetime | None, reason: str, *, covered: datetime | None
    ) -> int:
        """Publish every record changed since `since` (None: all, deleted ones included);
        origin unknown (a read cannot tell who changed a record); op c for records created
        after `covered` (what was published already), else u (d when deleted)."""
        count = 0
        async for page in changed_since(
            self.client, self.sobject, self.fields, since, self.options.batch_size
        ):
            tags = await self.scope_tags([str(raw["Id"]) for raw in page if raw.get("Id")])
            for raw in page:
                self._publish(raw, covered=covered, scope=tags.get(str(raw.get("Id"))))
            count += len(page)
        await self.publisher.flush()
        self.metrics.reconciliations.labels(SOURCE, self.sobject, reason).inc()
        log.info(
            "Salesforce %s reconciliation (%s) since %s: %d records published",
            self.sobject,
            reason,
            since.isoformat() if since else "the beginning",
            count,
        )
        return count
