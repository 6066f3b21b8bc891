"""The dashboard's routes over a sampler holding a crafted report (no broker, no network)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from foundation.settings import Settings
from sfpms.dashboard import create_app
from sfpms.observe.sampler import Sampler
from sfpms.observe.tracker import FlowExtras, LagTracker
from tests.unit.observe.builders import NAMING, PREFIX, PROJECT_WRITES, SINK_PMS, group, snapshot

TOKEN = "dash-token-0123456789"


def make_client(token: str | None) -> Iterator[TestClient]:
    settings = Settings(
        kafka_bootstrap="127.0.0.1:9",
        topic_prefix=PREFIX,
        dashboard_token=SecretStr(token) if token else None,
        custompms_token=SecretStr("pms-secret-value"),
    )
    sampler = Sampler(settings, cluster="local")
    tracker = LagTracker(NAMING)
    snap = snapshot(
        100.0,
        {(PROJECT_WRITES, 0): 10},
        {SINK_PMS: group(SINK_PMS, {(PROJECT_WRITES, 0): 4})},
        {SINK_PMS: (PROJECT_WRITES,)},
    )
    tracker.observe(snap)
    sampler.publish(tracker.report(snap, "local", FlowExtras(latency={}, dlq_size=2)), {})
    app = create_app(settings, sampler=sampler, run_sampler=False)
    # The dashboard answers only to its own host names (test_dashboard_access.py).
    with TestClient(app, base_url="http://127.0.0.1:18080") as client:
        yield client


@pytest.fixture
def client() -> Iterator[TestClient]:
    yield from make_client(None)


@pytest.fixture
def guarded() -> Iterator[TestClient]:
    yield from make_client(TOKEN)


def test_the_overview_has_flows_groups_and_the_dlq(client: TestClient) -> None:
    body = client.get("/api/overview").json()
    assert body["ready"] is True
    flows = {f["flow"]: f for f in body["flows"]}
    assert flows["task_project"]["lag"] == 6
    assert flows["task_project"]["history"][0][1] == 6
    [sink] = body["groups"]
    assert sink["partitions"][0]["lag"] == 6
    assert body["dlq"]["size"] == 2
    assert body["mapping_drift"] == []  # no worker metrics scraped here


def test_the_page_inlines_its_script_and_style(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "//SCRIPT" not in response.text and "/*STYLE*/" not in response.text
    assert "refresh" in response.text and ".card" in response.text
    assert response.headers["cache-control"] == "no-store"


def test_metrics_are_served_as_prometheus_text(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    assert "kafka_consumergroup_group_lag{" in response.text
    assert f'group="{SINK_PMS}",member_host="h",partition="0"' in response.text


def test_an_unwatched_group_is_a_404_that_says_where_to_look(client: TestClient) -> None:
    response = client.get("/api/groups/nope")
    assert response.status_code == 404 and "/api/groups" in response.json()["detail"]


def test_the_dashboard_is_read_only(client: TestClient) -> None:
    assert client.post("/api/overview").status_code == 405
    assert client.delete("/api/deadletters").status_code == 405


def test_without_the_token_only_healthz_answers(guarded: TestClient) -> None:
    assert guarded.get("/healthz").status_code == 200
    for path in ("/", "/metrics", "/api/overview", "/api/deadletters", "/api/history", "/x"):
        response = guarded.get(path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_wrong_token_is_refused(guarded: TestClient) -> None:
    headers = {"Authorization": "Bearer wrong"}
    assert guarded.get("/api/overview", headers=headers).status_code == 401


def test_the_token_works_as_a_bearer_header_but_not_as_a_query_parameter(
    guarded: TestClient,
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert guarded.get("/api/overview", headers=headers).status_code == 200
    assert guarded.get(f"/api/overview?token={TOKEN}").status_code == 401


def test_no_response_contains_a_secret(guarded: TestClient) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for path in ("/", "/metrics", "/api/overview", "/api/groups", "/api/flows", "/healthz"):
        text = guarded.get(path, headers=headers).text
        assert TOKEN not in text and "pms-secret-value" not in text, path
