"""Sink workers against the real emulators and a real broker: commands in, writes and
results out, retries through injected faults, refusals dead-lettered."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.custompms.client import CustompmsClient
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.formats import parse_datetime
from connectors.sinks.custompms_target import CustompmsTarget
from connectors.sinks.model import Applied, flatten
from connectors.sinks.salesforce_target import SalesforceTarget
from connectors.sinks.worker import SinkSystemSettings, SinkWorker
from foundation.kafka import topics as t
from foundation.kafka.admin import ensure_topics
from foundation.settings import Settings
from foundation.wire import WriteCommand
from tests.integration.custompms.support import RunningEmulator, running_emulator
from tests.integration.salesforce.support import RunningSalesforce, running_salesforce
from tests.support.kafka import TopicReader, produce
from tests.support.stack import with_registry

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def pms() -> Iterator[RunningEmulator]:
    with running_emulator() as running:
        yield running


@pytest.fixture
def sf(tmp_path: Path) -> Iterator[RunningSalesforce]:
    with running_salesforce(tmp_path / "tls") as running:
        yield running


@pytest.fixture
def wired(settings: Settings, pms: RunningEmulator, sf: RunningSalesforce) -> Iterator[Settings]:
    ensure_topics(settings, t.catalogue())
    with with_registry(settings) as configured:
        yield configured.model_copy(
            update={
                "custompms_url": pms.url,
                "salesforce_url": sf.url,
                "salesforce_ca_bundle": sf.cert,
            }
        )


COMMAND_FIELDS = ("command_id", "link_key", "system", "cause", "issued_at")


def op(**fields: Any) -> dict[str, Any]:
    """One WriteOp (a Project create unless told otherwise)."""
    base: dict[str, Any] = {
        "flow": "task_project",
        "entity": "project",
        "action": "create",
        "target_id": None,
        "external_id_field": None,
        "external_id": None,
        "idempotency_key": None,
        "if_match": None,
        "fields": {},
        "match": {},
        "refs": {},
    }
    base.update(fields)
    return base


def command(*more: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A WriteCommand of one op built from `fields` (command-level ones taken out), then
    the ops in `more`."""
    head = {k: fields.pop(k) for k in COMMAND_FIELDS if k in fields}
    return {
        "command_id": f"c-{fields.get('idempotency_key') or fields.get('target_id')}",
        "link_key": "00T000000000001AAA",
        "system": "custompms",
        "cause": None,
        "issued_at": NOW,
        **head,
        "ops": [op(**fields), *more],
    }


def run_sink(settings: Settings, system: str, results_expected: int) -> list[dict[str, Any]]:
    """Run one sink worker until it has published `results_expected` results; returns one
    dict per op outcome, with its command's id, link key and system."""
    results = TopicReader(settings, t.RESULTS)

    async def main() -> None:
        stop = asyncio.Event()
        async with (
            SalesforceClient(settings) if system == "salesforce" else CustompmsClient(settings)
        ) as client:
            target = (
                SalesforceTarget(client)  # type: ignore[arg-type]
                if system == "salesforce"
                else CustompmsTarget(client)  # type: ignore[arg-type]
            )
            options = SinkSystemSettings(backoff_initial_s=0.1, backoff_max_s=1.0)
            worker = SinkWorker(settings, system, target, options)
            task = asyncio.create_task(worker.run(stop))
            await asyncio.to_thread(results.read, results_expected, 60)
            stop.set()
            await task

    asyncio.run(main())
    results.close()
    return [
        {**outcome, **{k: result[k] for k in ("command_id", "link_key", "system")}}
        for result in results.records
        for outcome in result["outcomes"]
    ]


def test_custompms_creates_once_even_when_the_command_is_redelivered(
    wired: Settings, pms: RunningEmulator
) -> None:
    create = command(idempotency_key="task_project:00T1:create:0", fields={"name": "P1"})
    produce(wired, t.writes_topic("custompms"), [("00T1", create), ("00T1", create)])
    results = run_sink(wired, "custompms", 2)
    assert [r["outcome"] for r in results] == ["ok", "ok"]
    assert results[0]["target_id"] == results[1]["target_id"]
    with pms.http() as api:
        projects = api.get("/projects").json()["items"]
    assert [p["name"] for p in projects] == ["P1"]


def test_custompms_update_delete_and_refusal_to_the_dead_letter_topic(
    wired: Settings, pms: RunningEmulator
) -> None:
    with pms.http() as api:
        project = api.post("/projects", json={"name": "Before"}).json()
    commands = [
        command(action="update", target_id=project["id"], fields={"name": "After"}),
        command(action="update", target_id=project["id"], fields={"status": "no-such-status"}),
        command(action="delete", target_id="prj_999999"),
    ]
    produce(wired, t.writes_topic("custompms"), [(project["id"], c) for c in commands])
    dead = TopicReader(wired, t.DEADLETTER)
    results = run_sink(wired, "custompms", 3)
    assert [r["outcome"] for r in results] == ["ok", "failed", "ok"]
    assert "status" in (results[1]["error"] or "")
    letters = dead.read(1)
    dead.close()
    assert letters[0]["stage"] == "sink" and letters[0]["field"] == "status"
    assert letters[0]["flow"] == "task_project" and letters[0]["record"] == project["id"]
    with pms.http() as api:
        assert api.get(f"/projects/{project['id']}").json()["name"] == "After"


def test_custompms_onboarding_match_adopts_the_existing_customer(
    wired: Settings, pms: RunningEmulator
) -> None:
    with pms.http() as api:
        existing = api.post("/customers", json={"name": "Acme  Corp."}).json()
    create = command(
        flow="division_customer",
        entity="customer",
        idempotency_key="division_customer:02d1:create:0",
        fields={"name": "acme corp", "kind": "division", "active": True},
        match={"name": "acme corp"},
    )
    produce(wired, t.writes_topic("custompms"), [("02d1", create)])
    result = run_sink(wired, "custompms", 1)[0]
    assert (result["outcome"], result["matched"], result["target_id"]) == (
        "ok",
        True,
        existing["id"],
    )
    assert result["record"]["kind"] == "company", "reported as it is, for the claim"
    with pms.http() as api:
        customers = api.get("/customers").json()["items"]
    # Nothing is written to an adopted record before the routing side accepts the claim.
    assert [(c["id"], c["kind"], c["version"]) for c in customers] == [
        (existing["id"], "company", existing["version"])
    ]


def test_custompms_creates_a_project_and_its_task_in_one_command(
    wired: Settings, pms: RunningEmulator
) -> None:
    bundle = command(
        op(
            flow="task_task",
            entity="task",
            idempotency_key="task_task:00T7:create:0",
            fields={"title": "Call", "status": "todo"},
            refs={"project_id": 0},
        ),
        idempotency_key="task_project:00T7:create:0",
        fields={"name": "Call", "priority": "high"},
        link_key="00T7",
    )
    produce(wired, t.writes_topic("custompms"), [("00T7", bundle)])
    project, task = run_sink(wired, "custompms", 1)
    assert (project["outcome"], task["outcome"]) == ("ok", "ok")
    assert project["created"] and task["created"]
    assert task["record"]["project_id"] == project["target_id"]
    assert project["record"]["status"] == "planned", "server defaults are reported"
    with pms.http() as api:
        stored = api.get(f"/tasks/{task['target_id']}").json()
    assert stored["project_id"] == project["target_id"]


def test_a_task_whose_project_cannot_be_created_fails_naming_why(
    wired: Settings, pms: RunningEmulator
) -> None:
    bundle = command(
        op(
            flow="task_task",
            entity="task",
            idempotency_key="task_task:00T8:create:0",
            fields={"title": "Orphan"},
            refs={"project_id": 0},
        ),
        idempotency_key="task_project:00T8:create:0",
        fields={"name": "Bad", "priority": "not-a-priority"},
        link_key="00T8",
    )
    produce(wired, t.writes_topic("custompms"), [("00T8", bundle)])
    project, task = run_sink(wired, "custompms", 1)
    assert (project["outcome"], task["outcome"]) == ("failed", "failed")
    assert "project_id" in task["error"] and "could not be created" in task["error"]
    with pms.http() as api:
        assert api.get("/tasks").json()["items"] == []


def test_custompms_sink_retries_through_server_errors(
    wired: Settings, pms: RunningEmulator
) -> None:
    pms.set_faults(error_rate=0.5, seed=3, path_prefixes=["/api/v1/projects"])
    creates = [
        command(idempotency_key=f"k{i}", fields={"name": f"P{i}"}, link_key=f"00T{i}")
        for i in range(20)
    ]
    produce(
        wired,
        t.writes_topic("custompms"),
        [(f"00T{i}", c) for i, c in enumerate(creates)],
    )
    results = run_sink(wired, "custompms", 20)
    pms.clear_faults()
    assert all(r["outcome"] == "ok" for r in results)
    with pms.http() as api:
        names = sorted(
            p["name"] for p in api.get("/projects", params={"limit": 100}).json()["items"]
        )
    assert names == sorted(f"P{i}" for i in range(20))


def test_salesforce_upsert_update_and_redelivery(wired: Settings, sf: RunningSalesforce) -> None:
    upsert = command(
        system="salesforce",
        flow="task_task",
        entity="Task",
        action="upsert",
        link_key="pms:tsk_000001",
        external_id_field="Custompms_Id__c",
        external_id="tsk_000001",
        fields={"Subject": "From Custompms", "Status": "In Progress", "Priority": "High"},
    )
    produce(wired, t.writes_topic("salesforce"), [("tsk_000001", upsert)] * 2)
    results = run_sink(wired, "salesforce", 2)
    assert [r["outcome"] for r in results] == ["ok", "ok"]
    assert results[0]["target_id"] == results[1]["target_id"]
    assert [r["created"] for r in results] == [True, False]
    task_id = results[0]["target_id"]
    update = command(
        system="salesforce",
        entity="Task",
        action="update",
        target_id=task_id,
        fields={"Subject": "Renamed", "ActivityDate": "2026-12-24"},
    )
    too_long = command(
        system="salesforce",
        entity="Task",
        action="update",
        target_id=task_id,
        fields={"Subject": "x" * 300},
    )
    produce(wired, t.writes_topic("salesforce"), [(task_id, update)])
    produce(wired, t.writes_topic("salesforce"), [(task_id, too_long)])
    more = run_sink(wired, "salesforce", 4)[2:]
    assert sorted(r["outcome"] for r in more) == ["failed", "ok"]
    client = sf.simple()
    record = client.Task.get(task_id)
    assert (record["Subject"], record["ActivityDate"]) == ("Renamed", "2026-12-24")
    assert record["Custompms_Id__c"] == "tsk_000001"


def test_salesforce_onboarding_match_adopts_an_unlinked_division(
    wired: Settings, sf: RunningSalesforce
) -> None:
    client = sf.simple()
    existing = client.Division.create({"Name": "EMEA  Sales"})["id"]
    upsert = command(
        system="salesforce",
        flow="division_customer",
        entity="Division",
        action="upsert",
        link_key="pms:cus_000001",
        external_id_field="Custompms_Id__c",
        external_id="cus_000001",
        fields={"Name": "emea sales", "IsActive": True},
        match={"Name": "emea sales"},
    )
    produce(wired, t.writes_topic("salesforce"), [("cus_000001", upsert)])
    result = run_sink(wired, "salesforce", 1)[0]
    assert (result["outcome"], result["matched"]) == ("ok", True)
    assert result["target_id"][:15] == existing[:15]
    assert client.Division.get(existing)["Custompms_Id__c"] == "cus_000001"


def test_sink_stops_cleanly_while_the_target_is_down(wired: Settings, pms: RunningEmulator) -> None:
    pms.set_faults(error_rate=1.0, path_prefixes=["/api/v1"])
    produce(
        wired,
        t.writes_topic("custompms"),
        [("00T9", command(idempotency_key="k9", fields={"name": "P9"}))],
    )
    stopped = threading.Event()

    async def main() -> None:
        stop = asyncio.Event()
        async with CustompmsClient(wired) as client:
            worker = SinkWorker(wired, "custompms", CustompmsTarget(client), SinkSystemSettings())
            task = asyncio.create_task(worker.run(stop))
            await asyncio.sleep(3)
            stop.set()
            await asyncio.wait_for(task, 20)
            stopped.set()

    asyncio.run(main())
    assert stopped.is_set()
    pms.clear_faults()
    results = run_sink(wired, "custompms", 1)  # the uncommitted command comes back
    assert results[0]["outcome"] == "ok"


def test_salesforce_update_never_overwrites_a_persons_newer_edit(
    wired: Settings, sf: RunningSalesforce
) -> None:
    """A record changed after the decision is skipped, whoever changed it last: `hidden` is
    a person's edit followed by a sync write of another field (the hole a last-modifier
    check left open), `synced` only a sync write the decision had not seen."""
    person, sync = sf.simple(sf.alice_token()), sf.simple()
    ids = [person.Task.create({"Subject": f"Seen {i}"})["id"] for i in range(4)]
    seen = {i: _modstamp_ms(person.Task.get(i)) for i in ids}
    unchanged, edited, hidden, synced = ids
    person.Task.update(edited, {"Subject": "A person's newer edit"})
    person.Task.update(hidden, {"Subject": "A person's newer edit"})
    sync.Task.update(hidden, {"Description": "a later sync write"})
    sync.Task.update(synced, {"Description": "an earlier sync write"})

    def update(target: str) -> dict[str, Any]:
        return command(
            system="salesforce",
            entity="Task",
            action="update",
            target_id=target,
            if_match=seen[target],
            fields={"Subject": "Decided before the edit"},
        )

    produce(wired, t.writes_topic("salesforce"), [(i, update(i)) for i in ids])
    results = {r["target_id"][:15]: r for r in run_sink(wired, "salesforce", 4)}
    outcomes = {i: results[i[:15]]["outcome"] for i in ids}
    assert outcomes == {
        unchanged: "ok",
        edited: "conflict",
        hidden: "conflict",
        synced: "conflict",
    }
    skipped = results[edited[:15]]
    assert "changed in Salesforce" in str(skipped["error"])
    assert skipped["target_modstamp"] == parse_datetime(person.Task.get(edited)["SystemModstamp"])
    assert results[hidden[:15]]["target_modstamp"] == parse_datetime(
        person.Task.get(hidden)["SystemModstamp"]
    )
    assert person.Task.get(edited)["Subject"] == "A person's newer edit"
    assert person.Task.get(hidden)["Subject"] == "A person's newer edit"
    assert person.Task.get(unchanged)["Subject"] == "Decided before the edit"
    assert person.Task.get(synced)["Subject"] == "Seen 3"
    letters = TopicReader(wired, t.DEADLETTER)
    assert letters.drain(quiet=2.0) == [], "a conflict is not an operator's problem"
    letters.close()


def _modstamp_ms(record: dict[str, Any]) -> int:
    return int(parse_datetime(record["SystemModstamp"]).timestamp() * 1000)


def _task_upsert(n: int, subject: str) -> dict[str, Any]:
    return command(
        system="salesforce",
        flow="task_task",
        entity="Task",
        action="upsert",
        link_key=f"pms:tsk_{n:06d}",
        external_id_field="Custompms_Id__c",
        external_id=f"tsk_{n:06d}",
        fields={"Subject": subject, "Priority": "High"},
    )


def _apply_ops(settings: Settings, commands: list[dict[str, Any]]) -> list[Applied]:
    """The Salesforce target's outcomes for the commands' ops, flattened as the sink does."""

    async def apply() -> list[Applied]:
        async with SalesforceClient(settings) as client:
            ops = flatten([WriteCommand.from_avro(c) for c in commands])
            return await SalesforceTarget(client).apply(ops)

    return asyncio.run(apply())


def test_salesforce_creates_go_200_a_call_through_collections_upsert(
    wired: Settings, sf: RunningSalesforce
) -> None:
    commands = [_task_upsert(n, f"Bulk {n}" if n != 7 else "x" * 300) for n in range(450)]
    sf.admin("DELETE", "/stats")
    applied = _apply_ops(wired, commands)
    calls = {k: v for k, v in sf.admin("GET", "/stats")["requests"].items() if "oauth2" not in k}
    upserts = sum(n for k, n in calls.items() if k.startswith("PATCH") and "composite" in k)
    assert upserts == 3, calls  # 450 records: 200 + 200 + 50
    # and one describe (cached by the client) and one look for deleted twins
    assert sum(calls.values()) == 5, calls
    refused = applied[7]
    assert refused.status == "failed" and refused.target_id is None and refused.error is not None
    assert "STRING_TOO_LONG" in refused.error.describe()
    good = [a for n, a in enumerate(applied) if n != 7]
    assert all(a.ok and a.created and a.target_id for a in good)
    assert len({a.target_id for a in good}) == 449
    assert sf.simple().query("SELECT COUNT() FROM Task")["totalSize"] == 449
    # Every write names the sync's client: Change Data Capture tells its echoes by it.
    origins = {c["changeOrigin"] for c in sf.admin("GET", "/changes?sobject=Task")["changes"]}
    assert origins == {"sfpms"}


def test_a_replayed_upsert_never_recreates_a_twin_a_person_deleted(
    wired: Settings, sf: RunningSalesforce
) -> None:
    first = _apply_ops(wired, [_task_upsert(n, f"Twin {n}") for n in (1, 2, 4)])
    deleted = str(first[0].target_id)
    person = sf.simple()
    person.Task.delete(deleted)
    # Twin 4 was deleted too, but a person made a new record with its external id since:
    # an upsert of 4 updates that one (nothing is re-created), so it is not `gone`.
    person.Task.delete(first[2].target_id)
    remade = person.Task.create({"Subject": "Made again", "Custompms_Id__c": "tsk_000004"})
    sf.admin("DELETE", "/stats")
    again = _apply_ops(wired, [_task_upsert(n, f"Twin {n}") for n in (1, 2, 3, 4)])
    gone, kept, new, updated = again
    assert gone.status == "gone" and gone.target_id is None and gone.error is not None
    assert "was deleted" in gone.error.describe() and deleted in gone.error.describe()
    assert kept.ok and not kept.created and kept.target_id == first[1].target_id
    assert new.ok and new.created
    assert updated.ok and not updated.created and updated.target_id == remade["id"]
    calls = {k: n for k, n in sf.admin("GET", "/stats")["requests"].items() if "data" in k}
    # one describe (cached after), one queryAll for deleted twins, one Collections upsert
    assert sum(calls.values()) == 3, calls
    live = person.query("SELECT Custompms_Id__c FROM Task")["records"]
    assert sorted(r["Custompms_Id__c"] for r in live) == [f"tsk_00000{n}" for n in (2, 3, 4)]


def test_a_replayed_upsert_leaves_a_live_twin_as_a_person_edited_it(
    wired: Settings, sf: RunningSalesforce
) -> None:
    """docs/faults.md Found 19: the create of a Custompms record's twin, decided again after
    a kill, landed after a person edited the twin and put the older values back."""
    (made,) = _apply_ops(wired, [_task_upsert(6, "Twin 6")])
    twin = str(made.target_id)
    person = sf.simple()
    person.Task.update(twin, {"Subject": "Edited by a person", "Priority": "Low"})
    sf.admin("DELETE", "/stats")
    (again,) = _apply_ops(wired, [_task_upsert(6, "Twin 6")])
    assert again.ok and not again.created and again.target_id == twin
    assert dict(again.written) == {}, "nothing written to a live twin"
    calls = {k: n for k, n in sf.admin("GET", "/stats")["requests"].items() if "data" in k}
    assert sum(calls.values()) == 2, calls  # one describe, one queryAll; no upsert
    record = person.Task.get(twin)
    assert (record["Subject"], record["Priority"]) == ("Edited by a person", "Low")


def test_the_sink_reports_a_deleted_twin_gone_without_a_dead_letter(
    wired: Settings, sf: RunningSalesforce
) -> None:
    (made,) = _apply_ops(wired, [_task_upsert(5, "Twin 5")])
    twin = str(made.target_id)
    sf.simple().Task.delete(twin)
    letters = TopicReader(wired, t.DEADLETTER)
    produce(wired, t.writes_topic("salesforce"), [("tsk_000005", _task_upsert(5, "Again"))])
    (result,) = run_sink(wired, "salesforce", 1)
    assert (result["outcome"], result["target_id"]) == ("gone", None)
    assert result["link_key"] == "pms:tsk_000005"  # the engine detaches that record
    assert twin in result["error"]
    assert letters.drain(quiet=1.5) == [], "a deleted twin is not an operator's problem"
    letters.close()


def test_an_update_of_a_record_a_person_deleted_is_gone_not_a_dead_letter(
    wired: Settings, pms: RunningEmulator, sf: RunningSalesforce
) -> None:
    person = sf.simple(sf.alice_token())
    task_id = person.Task.create({"Subject": "Deleted soon"})["id"]
    person.Task.delete(task_id)
    with pms.http() as api:
        project = api.post("/projects", json={"name": "Deleted soon"}).json()
        api.delete(f"/projects/{project['id']}")
    sf_update = command(
        system="salesforce", entity="Task", action="update", target_id=task_id,
        fields={"Subject": "Decided before the delete"},
    )  # fmt: skip
    pms_update = command(action="update", target_id=project["id"], fields={"name": "Late"})
    produce(wired, t.writes_topic("salesforce"), [(task_id, sf_update)])
    produce(wired, t.writes_topic("custompms"), [(project["id"], pms_update)])
    letters = TopicReader(wired, t.DEADLETTER)
    # The results topic is shared: the second sink's run reads the first one's result too.
    for system, update, expected in (("salesforce", sf_update, 1), ("custompms", pms_update, 2)):
        (result,) = [r for r in run_sink(wired, system, expected) if r["system"] == system]
        target = update["ops"][0]["target_id"]
        assert (result["outcome"], result["target_id"]) == ("gone", target)
        assert "is gone from" in str(result["error"]) and "delete rule" in str(result["error"])
    assert letters.drain(quiet=2.0) == [], "a person's delete is not an operator's problem"
    letters.close()
