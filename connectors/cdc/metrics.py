"""Prometheus metrics of the CDC producers, in a registry of their own.

Served by `sfpms cdc run --metrics-port N` at `/metrics` (with the product's shared metrics,
such as the Salesforce API limit gauges its client sets), beside `/healthz` and `/readyz`,
on `SFPMS_METRICS_HOST`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from foundation import metrics
from foundation.health import Readiness

log = logging.getLogger(__name__)


class CdcMetrics:
    """Counters, gauges and histograms named `sfpms_cdc_*`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.changes = Counter(
            "sfpms_cdc_changes",
            "Change envelopes published (rate() gives changes per second)",
            ["source", "entity", "op"],
            registry=registry,
        )
        self.echoes_skipped = Counter(
            "sfpms_cdc_echoes_skipped",
            "Custompms changes made by the sync itself, not published (their write results "
            "carry what they wrote)",
            ["source", "entity"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "sfpms_cdc_dead_letters",
            "Records sent to the dead-letter topic instead of their change topic",
            ["source", "entity"],
            registry=registry,
        )
        self.poll_errors = Counter(
            "sfpms_cdc_poll_errors",
            "Poll cycles that failed and will be retried",
            ["source"],
            registry=registry,
        )
        self.poll_seconds = Histogram(
            "sfpms_cdc_poll_seconds",
            "Duration of one poll of one entity (or one feed read), publishing included",
            ["source", "entity"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=registry,
        )
        self.lag_seconds = Gauge(
            "sfpms_cdc_source_lag_seconds",
            "Now minus the newest modstamp published for this entity",
            ["source", "entity"],
            registry=registry,
        )
        self.api_usage = Gauge(
            "sfpms_cdc_salesforce_api_usage_ratio",
            "Fraction of the daily Salesforce API allowance used (Sforce-Limit-Info)",
            registry=registry,
        )
        self.poll_interval = Gauge(
            "sfpms_cdc_poll_interval_seconds",
            "Current pause between polls (grows near the Salesforce API limit)",
            ["source"],
            registry=registry,
        )
        self.positions = Counter(
            "sfpms_cdc_positions_committed",
            "Source positions written after their envelopes were acknowledged",
            ["source"],
            registry=registry,
        )

        self.reconciliations = Counter(
            "sfpms_cdc_reconciliations",
            "Re-reads that close a possible gap: sweeps of polled sObjects, and for Change Data "
            "Capture resumes without a valid replay id, gap and overflow events",
            ["source", "entity", "reason"],
            registry=registry,
        )
        self.pubsub_events = Counter(
            "sfpms_cdc_pubsub_events",
            "Change Data Capture events received, by change type",
            ["entity", "change_type"],
            registry=registry,
        )
        self.streaming = Gauge(
            "sfpms_cdc_streaming",
            "1 while a Change Data Capture subscription is open and has answered",
            ["source", "entity"],
            registry=registry,
        )
        self.state_reads = Counter(
            "sfpms_cdc_state_reads",
            "Salesforce calls that read the full state of records named by change events",
            ["entity"],
            registry=registry,
        )
        # Shared with the clients (foundation/metrics.py): a refused token and the API budget
        # (the session's, shared by everything in the process) are in the CDC's own registry
        # too, so a process serving only that registry still shows them; the served /metrics
        # (merged with the default registry) names each family once.
        for gauge in (
            metrics.CREDENTIALS_REFUSED,
            metrics.API_BUDGET_PAUSED,
            metrics.API_BUDGET_RESERVE,
            metrics.API_LIMIT_USED,
            metrics.API_LIMIT_MAX,
        ):
            self.registry.register(gauge)

    def published(self, source: str, entity: str, op: str, modstamp: datetime | None) -> None:
        self.changes.labels(source, entity, op).inc()
        if modstamp is not None:
            lag = (datetime.now(UTC) - modstamp).total_seconds()
            self.lag_seconds.labels(source, entity).set(max(lag, 0.0))

    def serve(
        self, port: int, host: str = "127.0.0.1", readiness: Readiness | None = None
    ) -> Callable[[], None]:
        """Serve /metrics, /healthz, /readyz on host:port; returns a function that stops it."""
        stop = metrics.serve(
            port, host, registry=metrics.merged(self.registry, REGISTRY), readiness=readiness
        )
        log.info("CDC metrics on http://%s:%d/metrics", host, port)
        return stop
