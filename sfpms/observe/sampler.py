"""The dashboard's background sampler: polls offsets every few seconds, keeps history.

Each poll (blocking Kafka I/O, run in a worker thread) reads a snapshot of the product's
groups, feeds the tracker, reads new dead letters, scrapes the sink and CDC /metrics, and
publishes a fresh `LagReport`. Charts draw from an in-memory history bounded in time
(`history_s`, 30 minutes by default) and in length, read back at start from Prometheus or
from the snapshot each poll writes to the data directory (sfpms/observe/history_store.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from foundation.kafka import topics as t
from foundation.settings import Settings
from sfpms.observe.budget import api_budgets
from sfpms.observe.deadletters import DeadLetterReader, DeadLetterView
from sfpms.observe.groups import Naming
from sfpms.observe.history_store import load_history, save_snapshot, snapshot_path
from sfpms.observe.model import LagReport
from sfpms.observe.offsets import OffsetReader
from sfpms.observe.scrape import Scraped, api_usage, scrape
from sfpms.observe.tracker import FlowExtras, LagTracker, TrackerOptions

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SamplerOptions:
    """How often to poll and how much to remember."""

    interval_s: float = 5.0
    history_s: float = 1800.0
    groups: tuple[str, ...] = ()  # empty: the product's groups
    tracker: TrackerOptions = field(default_factory=lambda: TrackerOptions(stop_after_s=30.0))
    scrape_timeout_s: float = 1.0
    persist_history: bool = True


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    """One chart point: when, lag in messages, lag in seconds (None if unknown)."""

    at: float
    lag: int
    lag_seconds: float | None

    def as_list(self) -> list[Any]:
        seconds = None if self.lag_seconds is None else round(self.lag_seconds, 3)
        return [round(self.at, 3), self.lag, seconds]


def metrics_urls(settings: Settings) -> dict[str, str]:
    """The other processes' /metrics endpoints the dashboard reads."""
    return {
        "sinks": settings.sink_metrics_url
        or f"http://127.0.0.1:{settings.sink_metrics_port}/metrics",
        "cdc": settings.cdc_metrics_url or f"http://127.0.0.1:{settings.cdc_metrics_port}/metrics",
    }


class Sampler:
    """Owns the Kafka clients, the tracker and the history; safe to read from any thread."""

    def __init__(
        self,
        settings: Settings,
        options: SamplerOptions | None = None,
        *,
        cluster: str | None = None,
    ) -> None:
        self.settings = settings
        self.options = options or SamplerOptions()
        self.cluster = cluster or settings.require_bootstrap()
        self.naming = Naming.of(settings)
        self.tracker = LagTracker(self.naming, self.options.tracker)
        self.report: LagReport | None = None
        self.api: list[dict[str, object]] = []
        self.budgets: list[dict[str, object]] = []
        self.scrapes: dict[str, Scraped] = {}
        self.last_error: str | None = None
        self.last_poll_at: float | None = None
        self.polls = 0
        self._history: dict[str, deque[HistoryPoint]] = {}
        self.history_source: str | None = None
        self._lock = threading.Lock()
        self._reader: OffsetReader | None = None
        self._dead_letters: DeadLetterReader | None = None

    # -- polling ---------------------------------------------------------------------------

    def poll_once(self) -> LagReport:
        """One blocking poll; publishes and returns the new report."""
        if self._reader is None:
            self._reader = OffsetReader(self.settings)
        if self._dead_letters is None:
            self._dead_letters = DeadLetterReader(self.settings)
        reader, dead = self._reader, self._dead_letters
        dlq_topic = self.settings.topic(t.DEADLETTER)
        snap = reader.snapshot(reader.watched_groups(self.options.groups), [dlq_topic])
        self.tracker.observe(snap)
        wanted = self.tracker.wanted_record_times(snap)
        if wanted:
            self.tracker.add_record_times(wanted, reader.record_times(wanted))
        with self._lock:
            dead.poll()
            by_flow = dict(dead.by_flow)
        scrapes = {
            name: scrape(url, self.options.scrape_timeout_s)
            for name, url in metrics_urls(self.settings).items()
        }
        sinks = scrapes["sinks"]
        source = f"{sinks.url}" if sinks.error is None else f"n/a ({sinks.url}: unreachable)"
        extras = FlowExtras(
            latency=sinks.latency,
            dead_letters=by_flow,
            dlq_size=snap.size(dlq_topic),
            latency_source=source,
        )
        report = self.tracker.report(snap, self.cluster, extras)
        self.publish(report, scrapes)
        return report

    def publish(self, report: LagReport, scrapes: dict[str, Scraped]) -> None:
        """Make `report` the current one and add it to the history (each poll does this)."""
        horizon = report.taken_at - self.options.history_s
        length = int(self.options.history_s / max(self.options.interval_s, 0.1)) + 10
        at = report.taken_at
        points = {f"flow:{f.flow}": HistoryPoint(at, f.lag, f.lag_seconds) for f in report.flows}
        points |= {
            f"group:{g.group}": HistoryPoint(at, g.sum_lag, g.max_lag_seconds)
            for g in report.groups
        }
        with self._lock:
            for key, point in points.items():
                series = self._history.get(key)
                if series is None:
                    series = self._history[key] = deque(maxlen=length)
                series.append(point)
                while series and series[0].at < horizon:
                    series.popleft()
            self.report = report
            self.scrapes = scrapes
            self.api = api_usage(scrapes.values())
            self.budgets = [b.as_dict() for b in api_budgets(scrapes.values())]
            self.last_poll_at = time.time()
            self.last_error = None
            self.polls += 1
            snapshot = {k: [p.as_list() for p in v] for k, v in self._history.items()}
        if self.options.persist_history:
            try:
                save_snapshot(snapshot_path(self.settings.data_dir), snapshot)
            except OSError as exc:
                log.warning("could not save the lag history snapshot: %s", exc)

    def _length(self) -> int:
        return int(self.options.history_s / max(self.options.interval_s, 0.1)) + 10

    def restore_history(self) -> int:
        """Seed the charts with what Prometheus or the snapshot kept; returns the points."""
        points, source = load_history(
            self.settings.data_dir,
            self.settings.prometheus_url,
            self.options.history_s,
            self.options.interval_s,
        )
        count = 0
        with self._lock:
            for key, rows in points.items():
                series = self._history.setdefault(key, deque(maxlen=self._length()))
                for at, lag, seconds in rows:
                    series.append(HistoryPoint(at, lag, seconds))
                    count += 1
            self.history_source = source
        log.info("lag history: %d points read back from %s", count, source)
        return count

    async def run(self, stop: asyncio.Event) -> None:
        """Poll every `interval_s` until `stop` is set; a failed poll is logged and retried."""
        if self.options.persist_history:
            try:
                await asyncio.to_thread(self.restore_history)
            except Exception as exc:  # history is a convenience; the polls matter
                log.warning("lag history not read back: %s", exc)
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.poll_once)
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("lag sampler poll failed: %s", self.last_error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.options.interval_s)

    # -- reading (any thread) --------------------------------------------------------------

    def history(self, since: float | None = None) -> dict[str, list[list[Any]]]:
        """Chart series: "flow:<name>" and "group:<name>" -> [[at, lag, lag_seconds], ...]."""
        with self._lock:
            return {
                key: [p.as_list() for p in series if since is None or p.at >= since]
                for key, series in self._history.items()
            }

    def dead_letters(self, limit: int = 100, flow: str | None = None) -> list[DeadLetterView]:
        with self._lock:
            if self._dead_letters is None:
                return []
            return self._dead_letters.entries(limit, flow)

    def close(self) -> None:
        """Close the Kafka clients (call after `run` returned)."""
        with self._lock:
            if self._dead_letters is not None:
                self._dead_letters.close()
                self._dead_letters = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None
