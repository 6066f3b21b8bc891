"""Idempotent creates (header and batch items) and per-item batch results."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.custompms.support import DEMO_TOKEN, RunningEmulator, all_changes

pytestmark = pytest.mark.integration


def test_a_retried_post_with_the_same_idempotency_key_returns_the_first_result(
    api: httpx.Client,
) -> None:
    headers = {"Idempotency-Key": "create-acme-1"}
    first = api.post("/customers", json={"name": "Acme"}, headers=headers)
    again = api.post("/customers", json={"name": "Acme"}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(api.get("/customers").json()["items"]) == 1
    assert len(all_changes(api)) == 1


def test_the_same_idempotency_key_with_a_different_body_is_422_key_reused(
    api: httpx.Client,
) -> None:
    headers = {"Idempotency-Key": "k-1"}
    api.post("/customers", json={"name": "Acme"}, headers=headers)

    reused = api.post("/customers", json={"name": "Globex"}, headers=headers)

    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert reused.json()["error"]["field"] == "Idempotency-Key"
    assert [r["name"] for r in api.get("/customers").json()["items"]] == ["Acme"]


def test_idempotency_keys_are_scoped_to_the_client(emulator: RunningEmulator) -> None:
    headers = {"Idempotency-Key": "shared-key"}
    with emulator.http() as sync, emulator.http(DEMO_TOKEN) as human:
        first = sync.post("/customers", json={"name": "Acme"}, headers=headers).json()
        second = human.post("/customers", json={"name": "Acme"}, headers=headers).json()
    assert first["id"] != second["id"]


def test_a_batch_create_item_key_gives_the_same_guarantee_as_the_header(
    api: httpx.Client,
) -> None:
    by_header = api.post("/customers", json={"name": "Acme"}, headers={"Idempotency-Key": "k"})
    operations = [
        {"op": "create", "data": {"name": "Acme"}, "idempotency_key": "k"},
        {"op": "create", "data": {"name": "Globex"}, "idempotency_key": "g"},
        {"op": "create", "data": {"name": "Globex"}, "idempotency_key": "g"},
        {"op": "create", "data": {"name": "Other"}, "idempotency_key": "g"},
    ]

    results = api.post("/customers/batch", json={"operations": operations}).json()["results"]

    assert [r["status"] for r in results] == [201, 201, 201, 422]
    assert results[0]["record"] == by_header.json()
    assert results[1]["record"] == results[2]["record"]
    assert results[3]["error"]["code"] == "idempotency_key_reused"
    assert results[3]["error"]["field"] == "idempotency_key"
    assert len(api.get("/customers").json()["items"]) == 2


def test_batch_applies_operations_in_order_with_one_result_and_change_each(
    api: httpx.Client,
) -> None:
    project = api.post("/projects", json={"name": "P"}).json()
    operations = [
        {"op": "create", "data": {"name": "Second"}},
        {"op": "update", "id": project["id"], "data": {"status": "active"}, "if_match": 1},
        {"op": "update", "id": project["id"], "data": {"status": "on_hold"}, "if_match": 1},
        {"op": "update", "id": "prj_000999", "data": {"name": "x"}},
        {"op": "create", "data": {"name": "x", "priority": "urgent"}},
        {"op": "update", "id": project["id"]},
        {"op": "delete", "id": "prj_000002"},
    ]

    response = api.post("/projects/batch", json={"operations": operations})

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(7))
    assert [r["status"] for r in results] == [201, 200, 412, 404, 422, 422, 204]
    assert results[0]["record"]["id"] == "prj_000002"
    assert results[1]["record"]["version"] == 2
    assert results[2]["error"]["code"] == "version_mismatch"
    assert results[2]["error"]["field"] == "if_match"
    assert results[4]["error"]["field"] == "priority"
    assert results[5]["error"]["field"] == "data"
    assert results[6]["record"] is None and results[6]["error"] is None
    ops = [(c["seq"], c["op"], c["id"]) for c in all_changes(api)]
    assert ops == [
        (1, "create", "prj_000001"),
        (2, "create", "prj_000002"),
        (3, "update", "prj_000001"),
        (4, "delete", "prj_000002"),
    ]


def test_a_batch_of_more_than_100_operations_is_refused_whole(api: httpx.Client) -> None:
    operations = [{"op": "create", "data": {"name": f"C{i}"}} for i in range(101)]

    response = api.post("/customers/batch", json={"operations": operations})

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "operations"
    assert response.json()["error"]["code"] == "too_long"
    assert api.get("/customers").json()["items"] == []


def test_a_batch_of_exactly_100_operations_is_accepted(api: httpx.Client) -> None:
    operations = [{"op": "create", "data": {"name": f"C{i}"}} for i in range(100)]
    results = api.post("/customers/batch", json={"operations": operations}).json()["results"]
    assert [r["status"] for r in results] == [201] * 100
