from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.integration.salesforce.support import API, RunningSalesforce

pytestmark = pytest.mark.integration

FIELDS = {
    "Subject": lambda n: f"subject {n}",
    "Description": lambda n: f"description {n}",
    "Priority": lambda n: ("High", "Normal", "Low")[n % 3],
    "Status": lambda n: ("Not Started", "In Progress", "Deferred")[n % 3],
    "ActivityDate": lambda n: f"2026-12-{n + 1:02d}",
    "Type": lambda n: ("Call", "Email", "Meeting")[n % 3],
    "Custompms_Id__c": lambda n: f"cpm-{n}",
}


class _Clients:
    """One requests.Session per thread (sessions are not thread-safe)."""

    def __init__(self, sf: RunningSalesforce) -> None:
        self.sf = sf
        self.local = threading.local()
        self.all: list[requests.Session] = []
        self.lock = threading.Lock()

    def patch(self, record_id: str, token: str, client: str, body: dict[str, Any]) -> int:
        session = getattr(self.local, "session", None)
        if session is None:
            session = requests.Session()
            session.verify, session.trust_env = str(self.sf.cert), False
            self.local.session = session
            with self.lock:
                self.all.append(session)
        response = session.patch(
            f"{self.sf.url}{API}/sobjects/Task/{record_id}",
            json=body,
            headers={"Authorization": f"Bearer {token}", "Sforce-Call-Options": f"client={client}"},
        )
        return response.status_code

    def close(self) -> None:
        for session in self.all:
            session.close()


def test_parallel_patches_to_one_record_lose_no_update(sf: RunningSalesforce) -> None:
    admin, alice = sf.token(), sf.alice_token()
    task_id = sf.api("POST", "/sobjects/Task", admin, json={"Subject": "shared"}).json()["id"]
    clients = _Clients(sf)
    try:
        with ThreadPoolExecutor(max_workers=len(FIELDS)) as pool:
            for round_ in range(4):
                jobs = [
                    pool.submit(
                        clients.patch,
                        task_id,
                        admin if i % 2 else alice,
                        "sfpms" if i % 2 else "ui",
                        {name: make(round_)},
                    )
                    for i, (name, make) in enumerate(FIELDS.items())
                ]
                assert [j.result() for j in jobs] == [204] * len(FIELDS)
                task = sf.api("GET", f"/sobjects/Task/{task_id}", admin).json()
                assert {name: task[name] for name in FIELDS} == {
                    name: make(round_) for name, make in FIELDS.items()
                }
    finally:
        clients.close()
    log = sf.admin("GET", "/changes", params={"sobject": "Task"})["changes"]
    last = [c for c in log if c["id"] == task_id][-1]
    assert task["LastModifiedById"] == last["userId"]
    assert task["LastModifiedDate"] == task["SystemModstamp"] == last["ts"]


def test_parallel_creates_get_distinct_ids(sf: RunningSalesforce) -> None:
    token = sf.token()
    clients: list[requests.Session] = []

    def create(n: int) -> str:
        session = requests.Session()
        session.verify, session.trust_env = str(sf.cert), False
        clients.append(session)
        response = session.post(
            f"{sf.url}{API}/sobjects/Task",
            json={"Subject": f"parallel {n}"},
            headers={"Authorization": f"Bearer {token}"},
        )
        return str(response.json()["id"])

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            ids = list(pool.map(create, range(40)))
    finally:
        for session in clients:
            session.close()
    assert len(set(ids)) == 40
    count = sf.api("GET", "/query", token, params={"q": "SELECT COUNT() FROM Task"}).json()
    assert count["totalSize"] == 40


def test_change_log_records_the_call_options_client_as_origin(sf: RunningSalesforce) -> None:
    admin, alice = sf.token(), sf.alice_token()
    task_id = sf.api(
        "POST", "/sobjects/Task", admin, client="sfpms", json={"Subject": "from sync"}
    ).json()["id"]
    sf.api(
        "PATCH", f"/sobjects/Task/{task_id}", alice, client="lightning", json={"Priority": "Low"}
    )
    sf.api("PATCH", f"/sobjects/Task/{task_id}", alice, json={"Priority": "High"})
    sf.api("DELETE", f"/sobjects/Task/{task_id}", admin, client="sfpms")
    changes = sf.admin("GET", "/changes", params={"sobject": "Task"})["changes"]
    mine = [(c["op"], c["changeOrigin"], c["fields"]) for c in changes if c["id"] == task_id]
    assert mine == [
        ("create", "sfpms", ["Subject"]),
        ("update", "lightning", ["Priority"]),
        ("update", "", ["Priority"]),
        ("delete", "sfpms", []),
    ]
    only_sync = sf.admin("GET", "/changes", params={"origin": "sfpms"})["changes"]
    assert [c["op"] for c in only_sync] == ["create", "delete"]
    users = {c["op"]: c["userId"] for c in changes if c["id"] == task_id}
    assert users["create"] != users["update"]


def test_change_log_can_be_read_incrementally_and_cleared(sf: RunningSalesforce) -> None:
    token = sf.token()
    sf.api("POST", "/sobjects/Task", token, json={"Subject": "a"})
    first = sf.admin("GET", "/changes")["changes"]
    sf.api("POST", "/sobjects/Task", token, json={"Subject": "b"})
    newer = sf.admin("GET", "/changes", params={"since": first[-1]["seq"]})["changes"]
    assert len(newer) == 1 and newer[0]["op"] == "create"
    sf.admin("DELETE", "/changes")
    assert sf.admin("GET", "/changes")["changes"] == []
