"""Reading other processes' /metrics: latency quantiles and API limit figures."""

from __future__ import annotations

import math

import pytest
from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest

from sfpms.observe.scrape import api_usage, histogram_quantile, parse


def test_histogram_quantile_interpolates_inside_the_bucket_holding_the_rank() -> None:
    buckets = [(0.1, 0.0), (1.0, 50.0), (2.0, 100.0), (math.inf, 100.0)]
    assert histogram_quantile(0.5, buckets) == pytest.approx(1.0)
    assert histogram_quantile(0.25, buckets) == pytest.approx(0.55)
    assert histogram_quantile(0.99, buckets) == pytest.approx(1.98)


def test_a_rank_in_the_infinite_bucket_answers_the_highest_finite_bound() -> None:
    buckets = [(1.0, 1.0), (5.0, 2.0), (math.inf, 10.0)]
    assert histogram_quantile(0.99, buckets) == 5.0


def test_an_empty_histogram_has_no_quantile() -> None:
    assert math.isnan(histogram_quantile(0.5, [(1.0, 0.0), (math.inf, 0.0)]))


def test_latency_quantiles_come_out_per_flow_from_real_exposition_text() -> None:
    registry = CollectorRegistry()
    hist = Histogram(
        "sfpms_e2e_latency_seconds", "e2e", ["flow"], buckets=(0.5, 1, 2), registry=registry
    )
    for value in (0.2, 0.7, 0.8, 1.5):
        hist.labels("task_project").observe(value)
    hist.labels("task_task")  # a flow with no observations yet
    scraped = parse("http://x/metrics", generate_latest(registry).decode())
    assert set(scraped.latency) == {"task_project"}
    latency = scraped.latency["task_project"]
    assert latency.count == 4
    assert latency.p50 == pytest.approx(0.75)
    assert 1.0 < latency.p95 <= 2.0


def test_api_figures_are_listed_with_the_share_of_the_limit() -> None:
    registry = CollectorRegistry()
    used = Gauge("sfpms_api_limit_used", "used", ["system"], registry=registry)
    limit = Gauge("sfpms_api_limit_max", "max", ["system"], registry=registry)
    used.labels("salesforce").set(250)
    limit.labels("salesforce").set(1000)
    rows = api_usage([parse("u", generate_latest(registry).decode())])
    share = [r for r in rows if r["name"] == "share_of_limit"]
    assert share == [{"name": "share_of_limit", "labels": {"system": "salesforce"}, "value": 0.25}]


def test_mapping_drift_comes_from_the_workers_unknown_value_counter_summed_over_workers() -> None:
    from prometheus_client import Counter

    from sfpms.observe.scrape import mapping_drift

    def exposition(count: int) -> str:
        registry = CollectorRegistry()
        counter = Counter(
            "sfpms_mapping_unknown_values", "drift", ["flow", "field"], registry=registry
        )
        counter.labels("task_project", "Status").inc(count)
        counter.labels("task_task", "Status").inc(0)
        return generate_latest(registry).decode()

    one, two = parse("http://a/metrics", exposition(2)), parse("http://b/metrics", exposition(3))
    assert one.drift == (("task_project", "Status", 2.0), ("task_task", "Status", 0.0))
    assert mapping_drift([one, two]) == [
        {"flow": "task_project", "field": "Status", "records": 5},
        {"flow": "task_task", "field": "Status", "records": 0},
    ]
