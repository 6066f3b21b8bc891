"""Prometheus metrics of the product (names `sfpms_*`), in one place.

Each process (CDC, engine worker, sink worker) updates the ones it owns and serves them with
`serve(port, host)` beside its `/healthz` and `/readyz` (foundation/health.py); the host is
`SFPMS_METRICS_HOST` (127.0.0.1 unless a container must be reached from outside). The
dashboard adds the kafka-lag-exporter style lag metrics.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import make_wsgi_app as _metrics_wsgi_app
from prometheus_client.registry import Collector

from foundation.health import Readiness, alive, json_body

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
    # Fine enough between 1 s and 1 min that flows with different latencies land in
    # different buckets (the dashboard and Grafana interpolate inside a bucket).
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 120, 300),
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


def declare_system(system: str) -> None:
    """Export the API budget series of `system` from the start (paused 0, reserve 0 until the
    budget sets them), so alert rules and dashboards see a series, not an absence."""
    API_BUDGET_PAUSED.labels(system)
    API_BUDGET_RESERVE.labels(system)


class _Merged(Collector):
    """Several registries exposed as one (the CDC's own and the product's default).

    A metric registered in more than one of them (the CDC registers the shared
    sfpms_api_credentials_refused in its own, for a process serving only that) is exposed
    once, from the first: Prometheus refuses a scrape that names a family twice."""

    def __init__(self, registries: Iterable[CollectorRegistry]) -> None:
        self.registries = tuple(registries)

    def collect(self) -> Iterator[Any]:
        seen: set[str] = set()
        for registry in self.registries:
            for family in registry.collect():
                if family.name not in seen:
                    seen.add(family.name)
                    yield family


def merged(*registries: CollectorRegistry) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Merged(registries))
    return registry


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes every few seconds must not write a log line each."""


def health_app(registry: CollectorRegistry, readiness: Readiness | None) -> Callable[..., Any]:
    """WSGI app: /metrics from `registry`, /healthz, /readyz from `readiness`."""
    metrics_app = _metrics_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path in ("/healthz", "/readyz"):
            if path == "/healthz":
                status, body = alive()
            elif readiness is None:
                status, body = 200, {"ready": True, "checks": {}}
            else:
                status, body = readiness.report()
            start_response(
                f"{status} {'OK' if status == 200 else 'Service Unavailable'}",
                [("Content-Type", "application/json")],
            )
            return [json_body(body)]
        result: Iterable[bytes] = metrics_app(environ, start_response)
        return result

    return app


def serve(
    port: int,
    host: str = "127.0.0.1",
    *,
    registry: CollectorRegistry = REGISTRY,
    readiness: Readiness | None = None,
) -> Callable[[], None]:
    """Serve /metrics, /healthz and /readyz on host:port from a background thread.

    Returns a function that stops the server.
    """
    server = make_server(
        host, port, health_app(registry, readiness), _Server, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name=f"metrics-{port}", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop
