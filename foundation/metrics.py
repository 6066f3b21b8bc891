"""Prometheus metrics of the product (names `sfpms_*`), in one place.

Each process (CDC, engine worker, sink worker) updates the ones it owns and can serve them
on 127.0.0.1 with `serve(port)`; the dashboard adds the kafka-lag-exporter style lag metrics.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

SINK_WRITES = Counter(
    "sfpms_sink_writes",
    "Write commands applied by sink workers, by outcome",
    ["system", "entity", "action", "outcome"],
)
SINK_BATCH_SECONDS = Histogram(
    "sfpms_sink_batch_seconds",
    "Time to apply one batch of write commands to its system",
    ["system"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
SINK_RETRIES = Counter(
    "sfpms_sink_retries", "Batches retried after a transient failure", ["system"]
)
E2E_LATENCY = Histogram(
    "sfpms_e2e_latency_seconds",
    "Source commit time to target write acknowledged, per flow",
    ["flow"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)
DEAD_LETTERS = Counter(
    "sfpms_dead_letters", "Records sent to the dead-letter topic", ["stage", "flow"]
)
API_LIMIT_USED = Gauge(
    "sfpms_api_limit_used",
    "API calls used of the daily allowance, as the system last reported it",
    ["system"],
)
API_LIMIT_MAX = Gauge("sfpms_api_limit_max", "The system's daily API allowance", ["system"])
API_BUDGET_RESERVE = Gauge(
    "sfpms_api_budget_reserve",
    "API calls of the daily allowance the sync leaves for the org's other integrations",
    ["system"],
)
API_BUDGET_PAUSED = Gauge(
    "sfpms_api_budget_paused",
    "1 while the sync is paused because its API budget is spent (it resumes by itself)",
    ["system"],
)
CREDENTIALS_REFUSED = Gauge(
    "sfpms_api_credentials_refused",
    "1 while the system refuses the sync's credentials (HTTP 401); the sync keeps retrying",
    ["system"],
)
SINK_HELD = Gauge(
    "sfpms_sink_held_commands",
    "Write commands waiting for another attempt (their partitions are paused meanwhile)",
    ["system"],
)
MAPPING_UNKNOWN_VALUES = Counter(
    "sfpms_mapping_unknown_values",
    "Values the mapping does not know (e.g. a new picklist value), by flow and field",
    ["flow", "field"],
)
ENGINE_EVENTS = Counter(
    "sfpms_engine_events",
    "Records the engine consumed, by kind of event (a change, a result, a forward, ...)",
    ["kind"],
)


def serve(port: int) -> None:
    """Serve /metrics on 127.0.0.1:port from a background thread."""
    start_http_server(port, addr="127.0.0.1")
