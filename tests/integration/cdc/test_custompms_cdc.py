"""Custompms CDC against the emulator's change feed, a real broker and the embedded registry."""

from __future__ import annotations

from datetime import date

import pytest

from foundation.kafka import topics as t
from foundation.wire import ChangeEnvelope
from streams.core.envelopes import change_from_envelope
from tests.integration.cdc.support import (
    FAST,
    SYNC_TOKEN,
    CdcThread,
    Record,
    Stack,
    TopicReader,
    change_topics,
)

pytestmark = pytest.mark.integration


def _ids_seen(records: list[Record]) -> set[str]:
    return {r.value["source"]["id"] for r in records if "source" in r.value}


@pytest.mark.smoke
def test_person_edits_in_custompms_arrive_in_feed_order_and_the_syncs_own_are_counted_not_sent(
    stack: Stack,
) -> None:
    pms = stack.pms
    customer = pms.call("POST", "/customers", json={"name": "Acme", "address": {"city": "Oslo"}})
    project = pms.call(
        "POST",
        "/projects",
        json={"name": "Launch", "customer_id": customer["id"], "start_date": "2026-12-01"},
    )
    pms.call("PATCH", f"/projects/{project['id']}", json={"status": "active"})
    task = pms.call(
        "POST", "/tasks", SYNC_TOKEN, json={"project_id": project["id"], "title": "By the sync"}
    )
    pms.call("DELETE", f"/tasks/{task['id']}")
    with (
        TopicReader(stack.settings, *change_topics()) as reader,
        CdcThread(stack.settings, sources=("custompms",)) as cdc,
    ):
        reader.wait_for(lambda rs: len(rs) >= 4, what="four envelopes", cdc=cdc)
        reader.drain(1.0)
        skipped = cdc.metrics.echoes_skipped.labels("custompms", "task")._value.get()

    (created_customer,) = reader.envelopes(customer["id"])
    assert created_customer["op"] == "c" and created_customer["before"] is None
    assert created_customer["after"]["address"]["city"] == "Oslo"
    assert created_customer["after"]["address"]["street"] is None
    assert created_customer["source"]["entity"] == "customer"
    assert created_customer["source"]["origin"] == "person"
    assert created_customer["source"]["actor"] == "alice"
    assert created_customer["source"]["seq"] == 1 and created_customer["source"]["version"] == 1

    created_project, updated_project = reader.envelopes(project["id"])
    assert created_project["after"]["start_date"] == date(2026, 12, 1)
    assert updated_project["op"] == "u" and updated_project["after"]["status"] == "active"
    assert updated_project["source"]["version"] == 2
    assert updated_project["source"]["modstamp"] == updated_project["after"]["updated_at"]

    # The sync's own create is not published: its write result already told the engine.
    (deleted_task,) = reader.envelopes(task["id"])
    assert skipped == 1
    assert deleted_task["source"]["origin"] == "person"
    assert deleted_task["op"] == "d" and deleted_task["after"] is None
    assert deleted_task["before"]["title"] == "By the sync"
    assert deleted_task["before"]["version"] == 1
    assert deleted_task["source"]["version"] == 2
    assert deleted_task["source"]["origin"] == "person"
    assert sorted(e["source"]["seq"] for e in reader.envelopes()) == [1, 2, 3, 5], "4 was the echo"

    change = change_from_envelope(ChangeEnvelope.from_avro(deleted_task))
    assert (change.system, change.entity, change.id, change.op) == (
        "custompms",
        "task",
        task["id"],
        "d",
    )
    assert change.record is not None and change.record["title"] == "By the sync"
    assert {r.topic for r in reader.records if r.key == task["id"].encode()} == {
        stack.settings.topic("custompms.task.changes")
    }


def test_restarted_custompms_cdc_resumes_after_its_stored_feed_seq_without_a_gap(
    stack: Stack,
) -> None:
    pms = stack.pms
    first = [pms.call("POST", "/customers", json={"name": f"Before {n}"}) for n in range(3)]
    with TopicReader(stack.settings, t.changes_topic("custompms", "customer")) as reader:
        with CdcThread(stack.settings, sources=("custompms",)) as cdc:
            reader.wait_for(lambda rs: len(rs) >= 3, what="the first customers", cdc=cdc)
        second = [pms.call("POST", "/customers", json={"name": f"After {n}"}) for n in range(3)]
        pms.call("PATCH", f"/customers/{first[0]['id']}", json={"name": "Renamed"})
        with CdcThread(stack.settings, sources=("custompms",)) as cdc:
            reader.wait_for(lambda rs: len(rs) >= 7, what="the later changes", cdc=cdc)
            reader.drain(0.5)

    seqs = [e["source"]["seq"] for e in reader.envelopes()]
    assert sorted(seqs) == list(range(1, 8))  # every change exactly once: no gap, no repeat
    assert _ids_seen(reader.records) == {c["id"] for c in first + second}


def test_custompms_cdc_survives_a_5xx_burst_on_the_change_feed(stack: Stack) -> None:
    pms = stack.pms
    with (
        TopicReader(stack.settings, t.changes_topic("custompms", "customer")) as reader,
        CdcThread(stack.settings, sources=("custompms",)) as cdc,
    ):
        cdc.wait_streaming()
        pms.admin("POST", "/faults", {"error_rate": 1.0, "path_prefixes": ["/api/v1/changes"]})
        during = pms.call("POST", "/customers", json={"name": "During the burst"})
        reader.drain(2.0)
        injected = pms.admin("GET", "/faults")["injected"]["error"]
        pms.admin("DELETE", "/faults")
        after = pms.call("POST", "/customers", json={"name": "After the burst"})
        reader.wait_for(
            lambda rs: _ids_seen(rs) >= {during["id"], after["id"]},
            what="the customers created during and after the burst",
            cdc=cdc,
        )
    assert injected > 0, "the burst never hit the CDC"
    assert [e["source"]["seq"] for e in reader.envelopes()] == [1, 2]


def test_from_now_starts_at_the_head_of_the_feed_instead_of_its_history(stack: Stack) -> None:
    pms = stack.pms
    for n in range(5):
        pms.call("POST", "/customers", json={"name": f"History {n}"})
    options = FAST.model_copy(update={"from_now": True})
    with (
        TopicReader(stack.settings, t.changes_topic("custompms", "customer")) as reader,
        CdcThread(stack.settings, options, sources=("custompms",)) as cdc,
    ):
        cdc.wait_streaming()
        fresh = pms.call("POST", "/customers", json={"name": "Fresh"})
        reader.wait_for(lambda rs: bool(rs), what="the fresh customer", cdc=cdc)
        reader.drain(0.5)
    assert [(e["source"]["id"], e["source"]["seq"]) for e in reader.envelopes()] == [
        (fresh["id"], 6)
    ]


def test_poll_mode_sees_creates_updates_and_tombstone_deletes_with_unknown_origin(
    stack: Stack,
) -> None:
    pms = stack.pms
    options = FAST.model_copy(update={"custompms_mode": "poll"})
    with (
        TopicReader(stack.settings, t.changes_topic("custompms", "customer")) as reader,
        CdcThread(stack.settings, options, sources=("custompms",)) as cdc,
    ):
        cdc.wait_streaming()
        customer = pms.call("POST", "/customers", json={"name": "Polled"})
        reader.wait_for(lambda rs: len(rs) >= 1, what="the create", cdc=cdc)
        pms.call("PATCH", f"/customers/{customer['id']}", json={"name": "Polled again"})
        reader.wait_for(lambda rs: len(rs) >= 2, what="the update", cdc=cdc)
        pms.call("DELETE", f"/customers/{customer['id']}")
        reader.wait_for(lambda rs: len(rs) >= 3, what="the delete", cdc=cdc)
        reader.drain(0.5)

    created, updated, deleted = reader.envelopes(customer["id"])
    assert [created["op"], updated["op"], deleted["op"]] == ["c", "u", "d"]
    assert updated["after"]["name"] == "Polled again"
    assert deleted["before"]["name"] == "Polled again" and deleted["after"] is None
    assert deleted["source"]["version"] == 3
    assert {e["source"]["origin"] for e in reader.envelopes()} == {"unknown"}
    assert {e["source"]["seq"] for e in reader.envelopes()} == {None}
