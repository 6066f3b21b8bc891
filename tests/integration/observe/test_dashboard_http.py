"""The dashboard process over HTTP against a real broker: API, /metrics, token, dead letters."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.observe.scenario import RunningDashboard

pytestmark = pytest.mark.integration


def get(dash: RunningDashboard, path: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {dash.token}"}
    return httpx.get(dash.url + path, headers=headers, timeout=10)


def settled(dash: RunningDashboard, timeout: float = 25.0) -> dict[str, Any]:
    """The overview once the sampler has seen the statuses the scenario leads to."""
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = get(dash, "/api/overview").json()
        if body.get("ready"):
            flows = {f["flow"]: f for f in body["flows"]}
            groups = {g["group"]: g for g in body["groups"]}
            if (
                groups[dash.lagging.engine]["status"] == "STOP"
                and flows["task_task"]["status"] == "STALL"
                and flows["task_project"]["status"] == "STALL"
                and body["dlq"]["by_flow"].get("task_project") == 2
            ):
                return body
        time.sleep(0.2)
    raise AssertionError(f"the dashboard never settled: {body}")


@pytest.mark.smoke
def test_the_overview_shows_per_partition_lag_statuses_and_flows(
    running_dashboard: RunningDashboard,
) -> None:
    dash = running_dashboard
    body = settled(dash)
    groups = {g["group"]: g for g in body["groups"]}
    engine_rows = {
        p["partition"]: p for p in groups[dash.lagging.engine]["partitions"]
        if p["topic"] == dash.lagging.task_changes
    }  # fmt: skip
    assert {p: r["lag"] for p, r in engine_rows.items()} == dash.lagging.task_lag
    assert engine_rows[0]["status"] == "STOP"
    sink_rows = {
        p["partition"]: p for p in groups[dash.lagging.sink]["partitions"]
        if p["topic"] == dash.lagging.project_writes
    }  # fmt: skip
    assert {p: r["lag"] for p, r in sink_rows.items()} == dash.lagging.project_lag
    assert sink_rows[1]["status"] == "STALL"
    if groups[dash.lagging.sink]["members"]:  # Tansu describes stable groups without members
        assert sink_rows[1]["client_id"]
    assert sink_rows[1]["lag_seconds"] is not None
    flows = {f["flow"]: f for f in body["flows"]}
    assert {name: f["lag"] for name, f in flows.items()} == dash.lagging.flow_lag
    assert flows["task_project"]["health"] == "error"
    assert flows["division_customer"]["health"] == "error"  # the shared sink stalls
    assert flows["organization_customer"]["health"] == "error"  # the shared sink stalls
    assert flows["task_project"]["latency"]["p50"] == pytest.approx(0.438)
    assert flows["task_project"]["latency"]["count"] == 5
    assert flows["task_task"]["latency"]["p50"] == pytest.approx(20.0)  # its own histogram
    assert flows["organization_customer"]["latency"] == {
        "p50": 5.3,
        "p95": 5.3,
        "p99": 5.3,
        "mean": 5.3,
        "count": 1,
    }  # one write: exact, not interpolated inside its 5-10 s bucket
    assert flows["division_customer"]["latency"] == "n/a"
    assert len(flows["task_project"]["history"]) >= 2
    assert body["dlq"]["size"] == dash.lagging.dlq
    share = [a for a in body["api_usage"] if a["name"] == "share_of_limit"]
    assert share and share[0]["value"] == pytest.approx(0.08)
    budgets = {b["system"]: b for b in body["api_budget"]}
    assert budgets["salesforce"]["share"] == pytest.approx(0.08)
    assert budgets["salesforce"]["reserve_share"] == pytest.approx(0.1)
    assert budgets["salesforce"]["paused"] is False
    assert budgets["custompms"]["paused"] is True


def test_metrics_follow_kafka_lag_exporter_and_add_the_product_figures(
    running_dashboard: RunningDashboard,
) -> None:
    dash = running_dashboard
    settled(dash)
    text = get(dash, "/metrics").text
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    lag = {
        int(labels["partition"]): value
        for labels, value in found["kafka_consumergroup_group_lag"]
        if labels["group"] == dash.lagging.sink and labels["topic"] == dash.lagging.project_writes
    }
    assert lag == {p: float(v) for p, v in dash.lagging.project_lag.items()}
    assert found["sfpms_dlq_size"] == [({}, float(dash.lagging.dlq))]
    status = {labels["group"]: value for labels, value in found["sfpms_burrow_status"]}
    assert status[dash.lagging.engine] == 4  # STOP
    assert status[dash.lagging.sink] == 5  # STALL
    flows = {labels["flow"]: value for labels, value in found["sfpms_flow_lag"]}
    assert flows["task_project"] == dash.lagging.flow_lag["task_project"]
    latest = {
        int(labels["partition"]): value
        for labels, value in found["kafka_partition_latest_offset"]
        if labels["topic"] == dash.lagging.task_changes
    }
    assert latest == {0: 5, 1: 2, 2: 0, 3: 1}


def test_dead_letters_are_listed_without_their_payload(
    running_dashboard: RunningDashboard,
) -> None:
    dash = running_dashboard
    settled(dash)
    response = get(dash, "/api/deadletters?flow=task_project")
    entries = response.json()["entries"]
    assert {e["record"] for e in entries} == {"00T000000000001", "00T000000000002"}
    assert set(entries[0]) >= {"stage", "flow", "record", "field", "reason", "failed_at"}
    assert "payload-bytes-never-shown" not in response.text
    assert "value" not in entries[0] and "key" not in entries[0]


def test_every_route_but_healthz_needs_the_token(running_dashboard: RunningDashboard) -> None:
    dash = running_dashboard
    assert httpx.get(dash.url + "/healthz", timeout=5).status_code == 200
    for path in ("/", "/metrics", "/api/overview", "/api/deadletters"):
        assert httpx.get(dash.url + path, timeout=5).status_code == 401, path
    assert httpx.get(f"{dash.url}/api/flows?token={dash.token}", timeout=5).status_code == 401
    headers = {"Authorization": f"Bearer {dash.token}"}
    assert httpx.get(f"{dash.url}/api/flows", headers=headers, timeout=5).status_code in (
        200,
        503,  # before the first poll finished
    )
