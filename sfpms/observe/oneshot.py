"""A lag report without a running sampler: what `sfpms lag` prints.

With one sample there is no end-offset history, so lag in seconds comes from the CreateTime
of the record at each committed offset ("record"); with `samples` > 1 spaced `interval_s`
apart, offsets produced meanwhile are interpolated and Burrow's trend rules (STALL, WARN,
STOP) have a window to work on.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from foundation.kafka import topics as t
from foundation.settings import Settings
from sfpms.observe.groups import Naming
from sfpms.observe.model import LagReport
from sfpms.observe.offsets import OffsetReader
from sfpms.observe.sampler import metrics_urls
from sfpms.observe.scrape import scrape
from sfpms.observe.tracker import FlowExtras, LagTracker, TrackerOptions

#: rounds of record reads per sample (each round reads one offset per partition)
_RECORD_ROUNDS = 3


def measure(
    settings: Settings,
    groups: Sequence[str] = (),
    *,
    samples: int = 1,
    interval_s: float = 1.0,
    timeout_s: float = 10.0,
) -> LagReport:
    """Sample `samples` times and report the last sample with the history of all of them."""
    reader = OffsetReader(settings, timeout=timeout_s)
    tracker = LagTracker(Naming.of(settings), TrackerOptions())
    dlq_topic = settings.topic(t.DEADLETTER)
    try:
        watched = reader.watched_groups(groups)
        snap = None
        for index in range(max(1, samples)):
            if index:
                time.sleep(interval_s)
            snap = reader.snapshot(watched, [dlq_topic])
            tracker.observe(snap)
        assert snap is not None
        for _ in range(_RECORD_ROUNDS):
            wanted = tracker.wanted_record_times(snap)
            if not wanted:
                break
            tracker.add_record_times(wanted, reader.record_times(wanted))
    finally:
        reader.close()
    sinks = scrape(metrics_urls(settings)["sinks"])
    source = sinks.url if sinks.error is None else f"n/a ({sinks.url}: unreachable)"
    extras = FlowExtras(latency=sinks.latency, dlq_size=snap.size(dlq_topic), latency_source=source)
    return tracker.report(snap, settings.require_bootstrap(), extras)
