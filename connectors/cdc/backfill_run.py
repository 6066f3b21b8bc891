"""`sfpms backfill --flow F`: re-publish both sides of a flow as op r, resumably.

The Salesforce side is a `Backfill` (Bulk API 2.0 from `bulk_threshold` records, REST
below; progress in the positions topic, so a stopped run resumes after the last Id it
published); the Custompms side lists its resource. Streaming positions are left alone: a
running `sfpms cdc run` goes on where it was, and the engine recognises records it knows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass

from connectors.cdc.metrics import CdcMetrics
from connectors.cdc.pacing import failure_policy, wait_or_stop
from connectors.cdc.runner import prepare_kafka, publisher_for, ready, use_mapping
from connectors.custompms import CustompmsClient
from connectors.salesforce import SalesforceClient
from foundation.errors import ConfigError, RetriableError
from foundation.settings import CaptureSettings, Settings

log = logging.getLogger(__name__)

#: (what, done, total or None)
FlowProgress = Callable[[str, int, int | None], None]


@dataclass(frozen=True, slots=True)
class BackfillReport:
    """One side of a flow's backfill."""

    label: str
    published: int
    via: str
    seconds: float
    finished: bool


def flow_entities(flow_name: str) -> tuple[str, str]:
    """(Salesforce sObject, Custompms entity) of a flow; ConfigError naming the flows."""
    from streams.mapping.flows import FLOWS

    flow = FLOWS.get(flow_name)
    if flow is None:
        raise ConfigError(
            f"unknown flow {flow_name!r}; the flows are {', '.join(FLOWS)} (`sfpms flows`)"
        )
    return flow.sf_object, flow.pms_resource


async def run_backfill(
    settings: Settings,
    flow_name: str,
    options: CaptureSettings | None = None,
    *,
    sides: Sequence[str] = ("salesforce", "custompms"),
    progress: FlowProgress | None = None,
    stop: asyncio.Event | None = None,
    fresh: bool = False,
) -> list[BackfillReport]:
    """Backfill the sides of `flow_name`; one report per side."""
    from connectors.cdc.custompms_source import CustompmsSource
    from connectors.cdc.salesforce_source import SalesforceSource

    sobject, entity = flow_entities(flow_name)
    options = options or settings.capture
    metrics = CdcMetrics()
    reports: list[BackfillReport] = []
    scope = use_mapping(settings)
    registry, positions = await asyncio.to_thread(prepare_kafka, settings, list(sides))
    async with AsyncExitStack() as stack:
        if "salesforce" in sides:
            label = f"Salesforce {sobject}"
            publisher = await publisher_for(
                stack, settings, registry, metrics, options, "salesforce"
            )
            sf = await stack.enter_async_context(SalesforceClient(settings))
            source = SalesforceSource(
                sf, publisher, metrics, options, positions, objects=(sobject,), scope=scope
            )
            stop = stop or asyncio.Event()
            await ready(source.prepare, f"the backfill of {label}", options, stop)
            backoff = failure_policy(1.0, options.max_backoff_s)
            failures = 0
            while True:
                try:
                    result = await source.backfill(
                        sobject,
                        stop=stop,
                        fresh=fresh and failures == 0,
                        progress=(lambda done, total: progress(label, done, total))
                        if progress
                        else None,
                    )
                    break
                except RetriableError as exc:
                    # An API budget pause or an outage: wait, then resume after the last
                    # page stored (nothing is published twice but that page).
                    failures += 1
                    publisher.reset()
                    delay = backoff.delay(failures, exc.retry_after)
                    log.warning("%s backfill waits %.0fs: %s", label, delay, exc)
                    await wait_or_stop(stop, delay)
                    if stop.is_set():
                        raise
            reports.append(
                BackfillReport(label, result.published, result.via, result.seconds, result.finished)
            )
        if "custompms" in sides and not (stop is not None and stop.is_set()):
            label = f"Custompms {entity}"
            publisher = await publisher_for(
                stack, settings, registry, metrics, options, "custompms"
            )
            pms = await stack.enter_async_context(CustompmsClient(settings))
            pms_source = CustompmsSource(
                pms, publisher, metrics, options, positions, settings.client_name
            )
            loop = asyncio.get_running_loop()
            started = loop.time()
            done = await pms_source.snapshot(
                entity,
                stop=stop,
                progress=(lambda n, total: progress(label, n, total)) if progress else None,
            )
            finished = not (stop is not None and stop.is_set())
            reports.append(BackfillReport(label, done, "rest", loop.time() - started, finished))
    return reports
