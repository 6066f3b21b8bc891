"""Salesforce CDC against the emulator over HTTPS, a real broker and the embedded registry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from connectors.cdc.positions import Position, load_positions, salesforce_key
from foundation.kafka import topics as t
from foundation.kafka.serde import TopicCodec, registry_client
from foundation.wire import ChangeEnvelope
from streams.core.envelopes import change_from_envelope
from tests.integration.cdc.support import (
    ADMIN,
    FAST,
    CdcThread,
    Record,
    Stack,
    TopicReader,
    change_topics,
)

pytestmark = pytest.mark.integration


def _has(record_id: str, *ops: str) -> Callable[[list[Record]], bool]:
    def check(records: list[Record]) -> bool:
        seen = [r.value["op"] for r in records if r.value.get("source", {}).get("id") == record_id]
        return all(op in seen for op in ops)

    return check


@pytest.mark.smoke
def test_person_and_sync_edits_in_salesforce_arrive_as_envelopes_with_their_origin(
    stack: Stack,
) -> None:
    sf = stack.sf
    alice_id, admin_id = sf.user_id("alice"), sf.user_id("admin")
    with (
        TopicReader(stack.settings, *change_topics()) as reader,
        CdcThread(stack.settings, sources=("salesforce",)) as cdc,
    ):
        # First start: the snapshot publishes the org and its global division as op r.
        reader.wait_for(
            lambda rs: {r.value["source"]["entity"] for r in rs} >= {"Organization", "Division"},
            what="snapshot of Organization and Division",
            cdc=cdc,
        )
        org = next(e for e in reader.envelopes() if e["source"]["entity"] == "Organization")
        assert (org["op"], org["source"]["snapshot"], org["before"]) == ("r", True, None)
        assert org["after"]["Name"] == "SFPMS Emulated Org"
        cdc.wait_streaming()  # every first load done: the next task is a change, not a read

        task_id = sf.create("Task", {"Subject": "Call Acme", "ActivityDate": "2026-12-01"})
        reader.wait_for(_has(task_id, "c"), what="create envelope", cdc=cdc)
        sf.update("Task", task_id, {"Subject": "Call Acme again", "Status": "In Progress"})
        reader.wait_for(_has(task_id, "u"), what="update envelope", cdc=cdc)
        sf.delete("Task", task_id)
        reader.wait_for(_has(task_id, "d"), what="delete envelope", cdc=cdc)
        sync_id = sf.create("Task", {"Subject": "Written by the sync"}, user=ADMIN)
        reader.wait_for(_has(sync_id, "c"), what="sync create envelope", cdc=cdc)

    created, updated, deleted = reader.envelopes(task_id)
    assert created["op"] == "c" and created["before"] is None
    assert created["after"]["Subject"] == "Call Acme"
    assert created["after"]["ActivityDate"] == date(2026, 12, 1)
    assert created["after"]["IsDeleted"] is False
    assert created["source"]["origin"] == "person"
    assert created["source"]["actor"] == alice_id
    assert created["source"]["entity"] == "Task"
    assert created["source"]["snapshot"] is False
    assert created["source"]["modstamp"] == created["after"]["SystemModstamp"]
    assert created["source"]["modstamp"].tzinfo is not None
    assert created["source"]["version"] is None and created["source"]["seq"] is None

    assert updated["op"] == "u" and updated["before"] is None
    assert updated["after"]["Status"] == "In Progress"
    assert updated["source"]["origin"] == "person"

    assert deleted["op"] == "d" and deleted["after"] is None
    assert deleted["before"]["Id"] == task_id
    assert deleted["before"]["IsDeleted"] is True
    assert deleted["before"]["Subject"] == "Call Acme again"
    assert deleted["source"]["origin"] == "person"

    (sync_created,) = reader.envelopes(sync_id)
    assert sync_created["source"]["origin"] == "sync"
    assert sync_created["source"]["actor"] == admin_id

    # The engine reads these envelopes as its own `Change`s, keyed by record id.
    change = change_from_envelope(ChangeEnvelope.from_avro(deleted))
    assert (change.system, change.entity, change.id, change.op) == (
        "salesforce",
        "Task",
        task_id,
        "d",
    )
    keys = {r.key for r in reader.records if r.value["source"]["id"] == task_id}
    assert keys == {task_id.encode()}
    assert {r.topic for r in reader.records if r.value["source"]["id"] == task_id} == {
        stack.settings.topic("salesforce.task.changes")
    }


def test_two_hundred_tasks_sharing_one_modstamp_are_published_exactly_once(
    stack: Stack,
) -> None:
    sf = stack.sf
    with (
        TopicReader(stack.settings, t.changes_topic("salesforce", "task")) as reader,
        CdcThread(stack.settings, sources=("salesforce",)) as cdc,
    ):
        cdc.wait_streaming()
        response = sf.api(
            "POST",
            "/composite/sobjects",
            json={
                "allOrNone": True,
                "records": [
                    {"attributes": {"type": "Task"}, "Subject": f"Bulk {n}"} for n in range(200)
                ],
            },
        )
        ids = [item["id"] for item in response.json()]
        reader.wait_for(
            lambda rs: len({r.value["source"]["id"] for r in rs}) >= 200,
            what="200 task envelopes",
            cdc=cdc,
        )
        reader.drain(1.5)  # several more poll cycles re-read the overlap window

    envelopes = reader.envelopes()
    assert len({e["source"]["modstamp"] for e in envelopes}) == 1, "precondition: one stamp"
    published = [e["source"]["id"] for e in envelopes]
    assert sorted(published) == sorted(ids)  # every one, none twice
    assert {e["op"] for e in envelopes} == {"c"}


def test_restarted_salesforce_cdc_resumes_from_its_stored_watermark_without_a_gap(
    stack: Stack,
) -> None:
    sf = stack.sf
    first = [sf.create("Task", {"Subject": f"Before stop {n}"}) for n in range(3)]
    with TopicReader(stack.settings, t.changes_topic("salesforce", "task")) as reader:
        with CdcThread(stack.settings, sources=("salesforce",)) as cdc:
            reader.wait_for(
                lambda rs: {r.value["source"]["id"] for r in rs} >= set(first),
                what="the first tasks",
                cdc=cdc,
            )
        codec = TopicCodec(stack.settings, registry_client(stack.settings), t.SOURCE_POSITIONS)
        stored = load_positions(stack.settings, codec)[salesforce_key("Task")]
        assert isinstance(stored, Position) and stored.snapshot_done
        assert stored.mark is not None and stored.mark.id == max(first)

        second = [sf.create("Task", {"Subject": f"While stopped {n}"}) for n in range(3)]
        sf.update("Task", first[0], {"Subject": "Edited while stopped"})
        with CdcThread(stack.settings, sources=("salesforce",)) as cdc:
            reader.wait_for(
                lambda rs: (
                    {r.value["source"]["id"] for r in rs} >= set(second)
                    and reader.ops(first[0]).count("u") >= 1
                ),
                what="the changes made while stopped",
                cdc=cdc,
            )

    snapshot_reads = [e for e in reader.envelopes() if e["op"] == "r"]
    assert sorted(e["source"]["id"] for e in snapshot_reads) == sorted(first)
    for record_id in second:
        assert reader.ops(record_id) == ["c"]
    assert reader.ops(first[0])[-1] == "u"
    # At most the overlap window is re-published after a restart, nothing more.
    assert len(reader.envelopes()) <= len(first) + len(second) + 1 + len(first)


def test_a_5xx_burst_and_expired_tokens_are_survived_without_losing_changes(
    stack: Stack,
) -> None:
    sf = stack.sf
    with (
        TopicReader(stack.settings, t.changes_topic("salesforce", "task")) as reader,
        CdcThread(stack.settings, sources=("salesforce",)) as cdc,
    ):
        cdc.wait_streaming()
        before = sf.create("Task", {"Subject": "Before the burst"})
        reader.wait_for(_has(before, "c"), what="the first task", cdc=cdc)
        # Longer than the client's own retries (at most ~3.75 s), so the loop must recover.
        sf.admin("POST", "/faults", {"error_rate": 1.0, "path_prefixes": ["/services/data"]})
        during = sf.admin(
            "POST", "/records", {"type": "Task", "records": [{"Subject": "During the burst"}]}
        )["ids"][0]
        reader.drain(4.0)
        injected = sf.admin("GET", "/faults")["injected"]["error"]
        sf.admin("DELETE", "/faults")
        sf.admin("DELETE", "/stats")
        sf.admin("POST", "/expire-tokens")
        reader.drain(1.5)  # the CDC polls (after its backoff) with its expired token meanwhile
        refused = sf.admin("GET", "/stats")["statuses"].get("401", 0)
        after = sf.create("Task", {"Subject": "After the tokens expired"})
        reader.wait_for(
            lambda rs: _has(during, "c")(rs) and _has(after, "c")(rs),
            what="the changes made during and after the faults",
            cdc=cdc,
        )
    assert injected > 0, "the burst never hit the CDC"
    assert refused >= 1, "the CDC never met its expired token"
    assert cdc.metrics.poll_errors.labels("salesforce")._value.get() >= 1


def test_a_record_that_fails_conversion_is_dead_lettered_and_later_records_still_flow(
    stack: Stack,
) -> None:
    sf = stack.sf
    with (
        TopicReader(
            stack.settings, t.changes_topic("salesforce", "division"), t.DEADLETTER
        ) as reader,
        CdcThread(stack.settings, sources=("salesforce",)) as cdc,
    ):
        reader.wait_for(lambda rs: bool(rs), what="the snapshot", cdc=cdc)
        # SortOrder is an Avro int: 2**40 cannot be published as it is.
        bad = sf.create("Division", {"Name": "Too big", "SortOrder": 2**40})
        good = sf.create("Division", {"Name": "Fine", "SortOrder": 3})
        reader.wait_for(_has(good, "c"), what="the division after the bad one", cdc=cdc)
        reader.drain(0.5)

    letters = [r for r in reader.records if r.topic == stack.settings.topic(t.DEADLETTER)]
    assert len(letters) == 1
    letter = letters[0].value
    assert (letter["stage"], letter["topic"], letter["record"]) == (
        "cdc",
        t.changes_topic("salesforce", "division"),
        bad,
    )
    assert letter["field"] == "SortOrder"
    assert "salesforce" in letter["reason"] and "Division" in letter["reason"]
    assert bad in letter["reason"] and "SortOrder" in letter["reason"]
    assert letter["key"] == bad.encode()
    assert f'"Id":"{bad}"'.encode() in letter["value"]
    assert reader.ops(bad) == []
    good_envelope = reader.envelopes(good)[0]
    assert good_envelope["after"]["SortOrder"] == 3


@pytest.mark.parametrize("sweeps", [True, False])
def test_a_row_committed_long_after_its_modstamp_is_caught_by_the_sweep(
    stack: Stack, sweeps: bool
) -> None:
    sf = stack.sf
    options = FAST.model_copy(
        update={"sweep_interval_s": 0.5 if sweeps else 3600.0, "sweep_lookback_s": 60.0}
    )
    with (
        TopicReader(stack.settings, t.changes_topic("salesforce", "division")) as reader,
        CdcThread(stack.settings, options, sources=("salesforce",)) as cdc,
    ):
        cdc.wait_streaming()
        on_time = sf.create("Division", {"Name": "On time"})
        reader.wait_for(_has(on_time, "c"), what="a division on time", cdc=cdc)
        # A long transaction: stamped 20 s ago, visible only now, behind the watermark.
        stamp = (datetime.now(UTC) - timedelta(seconds=20)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        late = sf.admin(
            "POST",
            "/records",
            {"type": "Division", "records": [{"Name": "Late", "SystemModstamp": stamp}]},
        )["ids"][0]
        if sweeps:
            reader.wait_for(_has(late, "c"), what="the late row, from a sweep", cdc=cdc)
        else:
            reader.drain(3.0)
    assert bool(reader.ops(late)) is sweeps
    if sweeps:
        assert reader.ops(late) == ["c"]  # published once, although every sweep re-reads it
        sweeps_done = cdc.metrics.registry.get_sample_value(
            "sfpms_cdc_reconciliations_total",
            {"source": "salesforce", "entity": "Division", "reason": "sweep"},
        )
        assert sweeps_done is not None and sweeps_done >= 2
