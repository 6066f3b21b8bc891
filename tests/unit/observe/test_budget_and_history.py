"""The API limits panel in words, one write's exact latency, and the lag history snapshot."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest

from sfpms.observe.budget import ApiBudget, api_budgets
from sfpms.observe.history_store import load_snapshot, save_snapshot, snapshot_path
from sfpms.observe.scrape import parse


def _scraped(**figures: dict[str, float]) -> object:
    registry = CollectorRegistry()
    for name, by_system in figures.items():
        gauge = Gauge(name, name, ["system"], registry=registry)
        for system, value in by_system.items():
            gauge.labels(system).set(value)
    return parse("http://x/metrics", generate_latest(registry).decode())


def test_the_budget_reads_as_a_sentence_with_the_reserve_and_where_the_sync_stops() -> None:
    cdc = _scraped(
        sfpms_api_limit_used={"salesforce": 159}, sfpms_api_limit_max={"salesforce": 15000}
    )
    sinks = _scraped(
        sfpms_api_limit_used={"salesforce": 160},  # fresher: the highest wins
        sfpms_api_budget_reserve={"salesforce": 1500, "custompms": 0},
        sfpms_api_budget_paused={"salesforce": 0, "custompms": 0},
    )
    budgets = {b.system: b for b in api_budgets([cdc, sinks])}  # type: ignore[list-item]
    salesforce = budgets["salesforce"]
    assert salesforce.words() == (
        "Salesforce: 160 of 15,000 API calls used today (1.1%); 1,500 kept in reserve for "
        "other integrations, so the sync pauses at 13,500 (13,340 calls left for it)"
    )
    assert salesforce.as_dict()["reserve_share"] == pytest.approx(0.1)
    assert budgets["custompms"].words() == "Custompms: no allowance reported yet"


def test_a_paused_budget_says_so_and_when_it_resumes() -> None:
    paused = ApiBudget("salesforce", 13500, 15000, 1500, paused=True)
    assert paused.words().endswith(
        "PAUSED: the sync's budget is spent; it resumes by itself when the allowance renews"
    )
    assert "sfpms_api" not in paused.words()


def test_one_write_gives_its_own_latency_not_a_guess_inside_its_bucket() -> None:
    registry = CollectorRegistry()
    hist = Histogram(
        "sfpms_e2e_latency_seconds", "e2e", ["flow"], buckets=(1, 5, 10), registry=registry
    )
    hist.labels("organization_customer").observe(5.3)
    for value in (6.0, 7.0, 9.0):
        hist.labels("task_task").observe(value)
    latency = parse("u", generate_latest(registry).decode()).latency
    single = latency["organization_customer"]
    assert (single.p50, single.p95, single.p99, single.count) == (5.3, 5.3, 5.3, 1)
    several = latency["task_task"]
    assert several.count == 3 and several.mean == pytest.approx(22 / 3)
    assert several.p50 == pytest.approx(7.5)  # interpolated in (5, 10], as Prometheus does


def test_the_history_snapshot_round_trips_and_drops_points_older_than_asked(tmp_path: Path) -> None:
    path = snapshot_path(tmp_path)
    now = time.time()
    save_snapshot(path, {"flow:task_task": [[now - 3600, 9, None], [now - 10, 3, 2.5]]})
    assert load_snapshot(path, since=now - 1800) == {"flow:task_task": [(now - 10, 3, 2.5)]}
    assert load_snapshot(tmp_path / "missing.json", since=0) == {}
    path.write_text("{not json")
    assert load_snapshot(path, since=0) == {}
