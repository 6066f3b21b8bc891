"""Read other sfpms processes' /metrics: flow latency quantiles and API limit use.

The sink workers serve `sfpms_e2e_latency_seconds` (a histogram per flow); the CDC and sink
processes may serve `sfpms_api_*` figures. The dashboard reads them to show them; it does
not re-export them (they stay separate Prometheus scrape targets, see
docs/operations-dashboard.md). Parsing uses prometheus_client's text parser.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from sfpms.observe.model import Latency

E2E_FAMILY = "sfpms_e2e_latency_seconds"
API_PREFIX = "sfpms_api_"


@dataclass(frozen=True, slots=True)
class Scraped:
    """What one scrape of one target gave (`error` set when it could not be read)."""

    url: str
    latency: Mapping[str, Latency]
    api: tuple[tuple[str, tuple[tuple[str, str], ...], float], ...]  # (name, labels, value)
    error: str | None = None


def scrape(url: str, timeout: float = 1.0) -> Scraped:
    """Fetch and parse one /metrics endpoint; never raises for an unreachable target."""
    try:
        response = httpx.get(url, timeout=timeout)
        response.raise_for_status()
        return parse(url, response.text)
    except (httpx.HTTPError, ValueError) as exc:
        return Scraped(url, {}, (), error=f"{type(exc).__name__}: {exc}")


def parse(url: str, text: str) -> Scraped:
    """Latency quantiles per flow and every `sfpms_api_*` sample from exposition text."""
    latency: dict[str, Latency] = {}
    api: list[tuple[str, tuple[tuple[str, str], ...], float]] = []
    for family in text_string_to_metric_families(text):
        if family.name == E2E_FAMILY:
            latency.update(latency_by_flow(family.samples))
        elif family.name.startswith(API_PREFIX):
            for sample in family.samples:
                if sample.name.endswith("_created"):
                    continue
                api.append((sample.name, tuple(sorted(sample.labels.items())), sample.value))
    return Scraped(url, latency, tuple(api))


def latency_by_flow(samples: Iterable[object]) -> dict[str, Latency]:
    """p50/p95/p99 per `flow` label from a histogram's `_bucket` and `_count` samples."""
    buckets: dict[str, list[tuple[float, float]]] = {}
    counts: dict[str, float] = {}
    sums: dict[str, float] = {}
    for sample in samples:
        name: str = sample.name  # type: ignore[attr-defined]
        labels: dict[str, str] = sample.labels  # type: ignore[attr-defined]
        value: float = sample.value  # type: ignore[attr-defined]
        flow = labels.get("flow", "")
        if name.endswith("_bucket"):
            buckets.setdefault(flow, []).append((float(labels["le"]), value))
        elif name.endswith("_count"):
            counts[flow] = value
        elif name.endswith("_sum"):
            sums[flow] = value
    result: dict[str, Latency] = {}
    for flow, rows in buckets.items():
        rows.sort()
        count = int(counts.get(flow, rows[-1][1] if rows else 0))
        if count <= 0:
            continue
        mean = sums[flow] / count if flow in sums else None
        if count == 1 and mean is not None:
            # One write: its latency is known exactly; interpolating inside its bucket would
            # invent a spread (a 5.3 s write would read p50 7.5 s, p99 9.9 s).
            result[flow] = Latency(mean, mean, mean, 1, mean)
            continue
        result[flow] = Latency(
            p50=histogram_quantile(0.5, rows),
            p95=histogram_quantile(0.95, rows),
            p99=histogram_quantile(0.99, rows),
            count=count,
            mean=mean,
        )
    return result


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' histogram_quantile over cumulative (upper bound, count) buckets.

    Linear interpolation inside the bucket holding the rank; a rank in the +Inf bucket
    answers the highest finite bound, as Prometheus does.
    """
    if not buckets:
        return math.nan
    total = buckets[-1][1]
    if total <= 0:
        return math.nan
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, cumulative in buckets:
        if cumulative >= rank:
            if math.isinf(bound):
                return lower_bound
            if cumulative == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                cumulative - lower_count
            )
        lower_bound, lower_count = bound, cumulative
    return lower_bound


def api_usage(scrapes: Iterable[Scraped]) -> list[dict[str, object]]:
    """`sfpms_api_*` samples of all targets as JSON rows, with a used/limit share when both
    `sfpms_api_limit_used` and `sfpms_api_limit_max` are present for the same labels."""
    rows: list[dict[str, object]] = []
    used: dict[tuple[tuple[str, str], ...], float] = {}
    limit: dict[tuple[tuple[str, str], ...], float] = {}
    for scraped in scrapes:
        for name, labels, value in scraped.api:
            rows.append({"name": name, "labels": dict(labels), "value": value})
            if name == "sfpms_api_limit_used":
                used[labels] = value
            elif name == "sfpms_api_limit_max":
                limit[labels] = value
    for labels, value in used.items():
        if limit.get(labels):
            share = value / limit[labels]
            rows.append({"name": "share_of_limit", "labels": dict(labels), "value": share})
    return rows
