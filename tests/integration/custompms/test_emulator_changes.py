"""The change feed: order, gap-freedom under concurrent writers, actors, delete entries."""

from __future__ import annotations

import random
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.integration.custompms.support import DEMO_TOKEN, RunningEmulator, all_changes

pytestmark = pytest.mark.integration

WRITERS = 12
WRITES_PER_WRITER = 20


def test_the_feed_is_gap_free_and_versions_increase_under_concurrent_writers(
    emulator: RunningEmulator, api: httpx.Client
) -> None:
    shared = [api.post("/customers", json={"name": f"Shared {i}"}).json()["id"] for i in range(3)]

    def writer(number: int) -> int:
        rng = random.Random(number)
        succeeded = 0
        with emulator.http() as client:
            own: list[str] = []
            for step in range(WRITES_PER_WRITER):
                if not own or rng.random() < 0.4:
                    response = client.post("/customers", json={"name": f"W{number}-{step}"})
                    own.append(response.json()["id"])
                else:
                    target = rng.choice([*own, *shared])
                    response = client.patch(
                        f"/customers/{target}", json={"notes": f"{number}/{step}"}
                    )
                assert response.status_code in (200, 201), response.text
                succeeded += 1
        return succeeded

    with ThreadPoolExecutor(WRITERS) as pool:
        writes = sum(pool.map(writer, range(WRITERS)))

    changes = all_changes(api)
    assert [c["seq"] for c in changes] == list(range(1, len(shared) + writes + 1))
    versions: dict[str, list[int]] = defaultdict(list)
    for change in changes:
        versions[change["id"]].append(change["version"])
        assert change["record"]["version"] == change["version"]
    for record_versions in versions.values():
        assert record_versions == list(range(1, len(record_versions) + 1))
    stamps = [c["at"] for c in changes]
    assert stamps == sorted(stamps)
    final = {
        r["id"]: r["version"] for r in api.get("/customers", params={"limit": 1000}).json()["items"]
    }
    assert final == {record_id: v[-1] for record_id, v in versions.items()}


def test_each_change_records_the_client_of_the_token_that_made_it(
    emulator: RunningEmulator,
) -> None:
    emulator.add_token("alice-token-123", "alice")
    with (
        emulator.http() as sync,
        emulator.http(DEMO_TOKEN) as demo,
        emulator.http("alice-token-123") as alice,
    ):
        created = sync.post("/customers", json={"name": "Acme"}).json()
        demo.patch(f"/customers/{created['id']}", json={"notes": "demo"})
        alice.delete(f"/customers/{created['id']}")
        actors = [(c["op"], c["actor"]) for c in all_changes(sync)]
    assert actors == [("create", "sfpms"), ("update", "demo-user"), ("delete", "alice")]


def test_a_delete_change_carries_the_last_state_and_the_next_version(api: httpx.Client) -> None:
    created = api.post("/customers", json={"name": "Acme"}).json()
    updated = api.patch(f"/customers/{created['id']}", json={"notes": "last words"}).json()
    api.delete(f"/customers/{created['id']}")

    delete = all_changes(api)[-1]

    assert (delete["op"], delete["version"]) == ("delete", 3)
    assert delete["record"] == updated


def test_paging_the_feed_with_next_resumes_where_it_stopped(api: httpx.Client) -> None:
    for i in range(5):
        api.post("/customers", json={"name": f"C{i}"})

    first = api.get("/changes", params={"after": 0, "limit": 2}).json()
    second = api.get("/changes", params={"after": first["next"], "limit": 2}).json()
    rest = api.get("/changes", params={"after": second["next"], "limit": 10}).json()
    idle = api.get("/changes", params={"after": rest["next"]}).json()

    seqs = [c["seq"] for page in (first, second, rest) for c in page["changes"]]
    assert seqs == [1, 2, 3, 4, 5]
    assert (first["next"], second["next"], rest["next"]) == (2, 4, 5)
    assert idle == {"changes": [], "next": 5}
