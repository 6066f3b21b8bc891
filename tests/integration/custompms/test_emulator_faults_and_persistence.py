"""Fault injection and request stats seen by clients; state surviving a restart; seed data."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.integration.custompms.support import RunningEmulator, all_changes, running_emulator

pytestmark = pytest.mark.integration


def test_injected_errors_reach_clients_in_the_api_error_shape(
    emulator: RunningEmulator, api: httpx.Client
) -> None:
    emulator.set_faults(error_rate=1.0, error_status=503, path_prefixes=["/api/v1/customers"])

    failed = api.get("/customers")
    untouched = api.get("/changes")

    assert failed.status_code == 503
    assert failed.json() == {
        "error": {"code": "unavailable", "message": "Injected server error", "field": None}
    }
    assert untouched.status_code == 200
    emulator.clear_faults()
    assert api.get("/customers").status_code == 200


def test_injected_rate_limits_are_429_with_retry_after(
    emulator: RunningEmulator, api: httpx.Client
) -> None:
    emulator.set_faults(rate_limit_rate=1.0, retry_after_s=7)

    response = api.post("/customers", json={"name": "Acme"})

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json()["error"]["code"] == "rate_limited"
    emulator.clear_faults()
    assert api.get("/customers").json()["items"] == []


def test_injected_drops_close_the_connection_mid_response(
    emulator: RunningEmulator, api: httpx.Client
) -> None:
    emulator.set_faults(drop_rate=1.0)
    with pytest.raises(httpx.TransportError):
        api.get("/customers")


def test_stats_count_requests_by_route_template_and_status_including_faults(
    emulator: RunningEmulator, api: httpx.Client
) -> None:
    created = api.post("/customers", json={"name": "Acme"}).json()
    api.get(f"/customers/{created['id']}")
    api.get("/customers/cus_000999")
    emulator.set_faults(error_rate=1.0, error_status=500)
    api.get("/customers")
    emulator.clear_faults()

    stats = emulator.stats()

    assert stats["total"] == 4
    assert stats["requests"]["POST /api/v1/customers"] == 1
    assert stats["requests"]["GET /api/v1/customers/{id}"] == 2
    assert stats["statuses"] == {"201": 1, "200": 1, "404": 1, "500": 1}
    emulator.reset_stats()
    assert emulator.stats()["total"] == 0


def test_records_changes_keys_and_tokens_survive_a_restart_on_the_same_file(
    tmp_path: Path,
) -> None:
    db = tmp_path / "custompms.db"
    key = {"Idempotency-Key": "durable-key"}
    with running_emulator(db) as first, first.http() as api:
        first.add_token("human-token-1", "carol")
        created = api.post("/customers", json={"name": "Acme"}, headers=key).json()
        api.patch(f"/customers/{created['id']}", json={"notes": "v2"})
        before = all_changes(api)

    with running_emulator(db) as second, second.http() as api:
        assert api.get(f"/customers/{created['id']}").json()["notes"] == "v2"
        replay = api.post("/customers", json={"name": "Acme"}, headers=key)
        assert replay.json() == created and replay.headers["Idempotent-Replayed"] == "true"
        assert api.post("/customers", json={"name": "Next"}).json()["id"] == "cus_000002"
        with second.http("human-token-1") as carol:
            carol.patch(f"/customers/{created['id']}", json={"notes": "v3"})
        after = all_changes(api)

    assert after[: len(before)] == before
    assert [(c["seq"], c["actor"]) for c in after[len(before) :]] == [(3, "sfpms"), (4, "carol")]
    assert after[-1]["at"] >= before[-1]["at"]


def test_seeding_writes_the_same_demo_records_as_actor_seed_and_only_once(
    tmp_path: Path,
) -> None:
    def snapshot(emulator: RunningEmulator) -> dict[str, list[dict[str, object]]]:
        volatile = {"created_at", "updated_at"}
        with emulator.http() as api:
            return {
                resource: [
                    {k: v for k, v in record.items() if k not in volatile}
                    for record in api.get(f"/{resource}", params={"limit": 1000}).json()["items"]
                ]
                for resource in ("customers", "projects", "tasks")
            }

    with running_emulator(tmp_path / "a.db", seed=True) as one:
        first = snapshot(one)
        with one.http() as api:
            actors = {c["actor"] for c in all_changes(api)}
    with running_emulator(tmp_path / "a.db", seed=True) as reopened:
        assert snapshot(reopened) == first
    with running_emulator(seed=True) as other:
        assert snapshot(other) == first

    assert [len(first[r]) for r in ("customers", "projects", "tasks")] == [10, 20, 100]
    assert [c["kind"] for c in first["customers"]].count("organization") == 1
    assert actors == {"seed"}
