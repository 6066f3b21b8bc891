"""Sink workers on the failure paths (docs/faults.md, issue 14): nothing lost, nothing
stalled. Real broker, real emulators."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import Producer

from connectors.custompms.client import CustompmsClient
from connectors.salesforce.client import SalesforceClient
from connectors.sinks.custompms_target import CustompmsTarget
from connectors.sinks.salesforce_target import SalesforceTarget
from connectors.sinks.worker import SinkSystemSettings, SinkWorker
from foundation.deadletters import MAX_VALUE_BYTES
from foundation.kafka import topics as t
from foundation.settings import Settings
from tests.integration.custompms.support import RunningEmulator
from tests.integration.salesforce.support import RunningSalesforce
from tests.integration.sinks.test_sinks import command, pms, sf, wired
from tests.support.kafka import TopicReader, produce

pytestmark = pytest.mark.integration
__all__ = ["pms", "sf", "wired"]  # fixtures

FAST = SinkSystemSettings(
    backoff_initial_s=0.1, backoff_max_s=0.3, max_attempts=3, linger_s=0.05, limit_wait_s=1.0
)


def run_until(
    settings: Settings,
    system: str,
    done: Callable[[list[dict[str, Any]]], bool],
    *,
    options: SinkSystemSettings = FAST,
    timeout: float = 60.0,
    during: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """Run one sink worker until `done(results so far)`; its results."""
    results = TopicReader(settings, t.RESULTS)
    failure: list[BaseException] = []

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
            worker = SinkWorker(settings, system, target, options)
            task = asyncio.create_task(worker.run(stop))
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and not done(results.records):
                if task.done():
                    break
                await asyncio.to_thread(results.read, len(results.records) + 1, 0.5)
                if during is not None:
                    during()
            stop.set()
            try:
                await asyncio.wait_for(task, 30)
            except BaseException as exc:
                failure.append(exc)

    asyncio.run(main())
    results.close()
    if failure:
        raise AssertionError(f"the sink worker failed: {failure[0]!r}") from failure[0]
    return [  # one dict per op outcome, with its command's id, link key and system
        {**outcome, **{k: result[k] for k in ("command_id", "link_key", "system")}}
        for result in results.records
        for outcome in result["outcomes"]
    ]


def test_a_command_near_the_message_limit_is_dead_lettered_bounded_and_the_partition_moves_on(
    wired: Settings, pms: RunningEmulator
) -> None:
    topic = t.writes_topic("custompms")
    producer = Producer(wired.producer_config())
    garbage = b"\x00\x00\x00\x00\x07" + os.urandom(999_000)
    producer.produce(wired.topic(topic), key=b"00T1", value=garbage)
    assert producer.flush(15) == 0
    after = command(idempotency_key="k-after", fields={"name": "After the garbage"})
    produce(wired, topic, [("00T1", after)])
    dead = TopicReader(wired, t.DEADLETTER)
    results = run_until(wired, "custompms", lambda rs: len(rs) >= 1)
    assert [r["outcome"] for r in results] == ["ok"]
    letters = dead.read(1, 20)
    dead.close()
    assert len(letters) == 1
    letter = letters[0]
    assert letter["stage"] == "sink" and letter["truncated"]
    assert letter["value_size"] == len(garbage) and letter["value"] == garbage[:MAX_VALUE_BYTES]
    assert (letter["topic"], letter["offset"]) == (topic, 0)


def test_a_resource_that_keeps_failing_does_not_block_the_others_and_ends_in_a_dead_letter(
    wired: Settings, pms: RunningEmulator
) -> None:
    pms.set_faults(error_rate=1.0, error_status=503, path_prefixes=["/api/v1/projects"])
    produce(
        wired,
        t.writes_topic("custompms"),
        [("00T1", command(idempotency_key="kp", fields={"name": "Never makes it"}))],
    )
    produce(
        wired,
        t.writes_topic("custompms"),
        [
            (
                "02d1",
                command(
                    flow="division_customer",
                    entity="customer",
                    link_key="02d1",
                    idempotency_key="kc",
                    fields={"name": "Makes it", "kind": "division"},
                ),
            )
        ],
    )
    dead = TopicReader(wired, t.DEADLETTER)
    started = time.monotonic()
    first: list[float] = []

    def note(rs: list[dict[str, Any]]) -> bool:
        if rs and not first:
            first.append(time.monotonic() - started)
        return len(rs) >= 2

    results = run_until(wired, "custompms", note, timeout=120)
    pms.clear_faults()
    by_entity = {r["entity"]: r for r in results}
    assert by_entity["customer"]["outcome"] == "ok"
    assert by_entity["project"]["outcome"] == "failed"
    assert results[0]["entity"] == "customer", "the customer waited for the failing project"
    letters = dead.read(1, 20)
    dead.close()
    assert letters[0]["attempts"] == FAST.max_attempts
    assert "gave up after 3 attempt(s)" in letters[0]["reason"]
    assert "503" in letters[0]["reason"]


def test_custompms_update_never_overwrites_a_persons_newer_edit(
    wired: Settings, pms: RunningEmulator
) -> None:
    with pms.http() as api:
        project = api.post("/projects", json={"name": "Seen at version 1"}).json()
        edited = api.post("/projects", json={"name": "Edited after the decision"}).json()
        api.patch(f"/projects/{edited['id']}", json={"name": "A person's newer edit"})
    decided = [
        command(action="update", target_id=p["id"], if_match=1, fields={"name": "Sync write"})
        for p in (project, edited)
    ]
    produce(wired, t.writes_topic("custompms"), [(c["ops"][0]["target_id"], c) for c in decided])
    dead = TopicReader(wired, t.DEADLETTER)
    results = {r["target_id"]: r for r in run_until(wired, "custompms", lambda rs: len(rs) >= 2)}
    assert results[project["id"]]["outcome"] == "ok"
    skipped = results[edited["id"]]
    assert skipped["outcome"] == "conflict" and skipped["version"] == 2
    assert "changed in Custompms" in str(skipped["error"])
    with pms.http() as api:
        assert api.get(f"/projects/{edited['id']}").json()["name"] == "A person's newer edit"
        assert api.get(f"/projects/{project['id']}").json()["name"] == "Sync write"
    assert dead.drain(quiet=1.5) == [], "a conflict is not an operator's problem"
    dead.close()


def test_the_sinks_own_earlier_write_is_not_taken_for_a_persons_edit(
    wired: Settings, pms: RunningEmulator
) -> None:
    with pms.http() as api:
        project = api.post("/projects", json={"name": "v1"}).json()
    # Both decided at version 1, before the result of the first came back.
    decided = [
        command(action="update", target_id=project["id"], if_match=1, fields={"name": n})
        for n in ("first", "second")
    ]
    produce(wired, t.writes_topic("custompms"), [(project["id"], c) for c in decided])
    results = run_until(wired, "custompms", lambda rs: len(rs) >= 2)
    assert [r["outcome"] for r in results] == ["ok", "ok"]
    with pms.http() as api:
        assert api.get(f"/projects/{project['id']}").json()["name"] == "second"


def test_a_create_decided_again_with_newer_values_adopts_the_record_its_key_made(
    wired: Settings, pms: RunningEmulator
) -> None:
    key = "task_project:00T1:create:0"
    first = command(idempotency_key=key, fields={"name": "First decision"})
    again = command(idempotency_key=key, fields={"name": "Decided again after state loss"})
    produce(wired, t.writes_topic("custompms"), [("00T1", first), ("00T1", again)])
    results = run_until(wired, "custompms", lambda rs: len(rs) >= 2)
    assert [(r["outcome"], r["created"]) for r in results] == [("ok", True), ("ok", True)]
    assert results[0]["target_id"] == results[1]["target_id"]
    with pms.http() as api:
        projects = api.get("/projects").json()["items"]
    assert [p["name"] for p in projects] == ["Decided again after state loss"]


def test_salesforce_request_limit_waits_without_dead_lettering_then_applies(
    wired: Settings, sf: RunningSalesforce
) -> None:
    person = sf.simple(sf.alice_token())
    task_id = person.Task.create({"Subject": "Before the limit"})["id"]
    update = command(
        system="salesforce",
        entity="Task",
        action="update",
        target_id=task_id,
        fields={"Subject": "After the limit"},
    )
    produce(wired, t.writes_topic("salesforce"), [(task_id, update)])
    sf.admin("POST", "/limits", json={"used": 1_000_000, "limit": 1_000_000})
    sf.admin("DELETE", "/stats")
    lifted = threading.Timer(5.0, lambda: sf.admin("POST", "/limits", json={"used": 0}))
    lifted.start()
    dead = TopicReader(wired, t.DEADLETTER)
    # The API budget (connectors/salesforce/budget.py) pauses at Salesforce's refusal and
    # reads /limits once per probe interval until the window frees calls.
    probing = wired.model_copy(update={"salesforce_api_probe_s": 0.5})
    try:
        results = run_until(probing, "salesforce", lambda rs: len(rs) >= 1, timeout=60)
    finally:
        lifted.cancel()
    assert [r["outcome"] for r in results] == ["ok"]
    stats = sf.admin("GET", "/stats")
    sent = sum(n for k, n in stats["requests"].items() if k.startswith("PATCH"))
    assert sent <= 2, f"paused: the update is sent once it may be, not again and again: {stats}"
    probes = sum(n for k, n in stats["requests"].items() if k.endswith("/limits"))
    # each probe is one held try of the command: more than its bounded attempts
    assert probes > FAST.max_attempts, "the limit waits must not count as attempts"
    assert dead.drain(quiet=1.0) == []
    dead.close()
    assert person.Task.get(task_id)["Subject"] == "After the limit"


def test_one_failing_sobject_does_not_block_the_others(
    wired: Settings, sf: RunningSalesforce
) -> None:
    person = sf.simple(sf.alice_token())
    task_id = person.Task.create({"Subject": "Task before"})["id"]
    version = sf.settings().salesforce_api_version
    sf.admin(
        "POST",
        "/faults",
        json={
            "error_rate": 1.0,
            "error_status": 503,
            "path_prefixes": [f"/services/data/v{version}/sobjects/Division/"],
        },
    )
    division = command(
        system="salesforce",
        flow="division_customer",
        entity="Division",
        action="upsert",
        link_key="pms:cus_000009",
        external_id_field="Custompms_Id__c",
        external_id="cus_000009",
        fields={"Name": "Never makes it", "IsActive": True},
    )
    task = command(
        system="salesforce",
        entity="Task",
        action="update",
        target_id=task_id,
        fields={"Subject": "Task after"},
    )
    produce(wired, t.writes_topic("salesforce"), [("cus_000009", division)])
    produce(wired, t.writes_topic("salesforce"), [(task_id, task)])
    results = run_until(wired, "salesforce", lambda rs: len(rs) >= 2, timeout=120)
    sf.admin("DELETE", "/faults")
    assert [(r["entity"], r["outcome"]) for r in results] == [
        ("Task", "ok"),
        ("Division", "failed"),
    ]
    assert person.Task.get(task_id)["Subject"] == "Task after"
