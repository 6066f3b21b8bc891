"""Task through Change Data Capture over the Pub/Sub API (gRPC/TLS), real broker and registry."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from connectors.cdc.positions import load_positions, pubsub_key
from foundation.kafka import topics as t
from foundation.kafka.serde import TopicCodec, registry_client
from tests.integration.cdc.support import (
    ADMIN,
    STREAMED,
    CdcThread,
    Record,
    Stack,
    TopicReader,
    change_topics,
)

pytestmark = pytest.mark.integration
TOPIC = "/data/TaskChangeEvent"


def _has(record_id: str, *ops: str) -> Callable[[list[Record]], bool]:
    def check(records: list[Record]) -> bool:
        seen = [r.value["op"] for r in records if r.value.get("source", {}).get("id") == record_id]
        return all(op in seen for op in ops)

    return check


def _count(record_id: str, n: int) -> Callable[[list[Record]], bool]:
    def check(records: list[Record]) -> bool:
        return sum(1 for r in records if r.value.get("source", {}).get("id") == record_id) >= n

    return check


def test_task_edits_arrive_as_full_records_with_the_origin_their_change_events_name(
    stack: Stack,
) -> None:
    sf = stack.sf
    with (
        TopicReader(stack.settings, *change_topics()) as reader,
        CdcThread(stack.settings, STREAMED, sources=("salesforce",)) as cdc,
    ):
        cdc.wait_streaming()
        task_id = sf.create(
            "Task", {"Subject": "Call Acme", "Priority": "High", "Description": "first"}
        )
        reader.wait_for(_has(task_id, "c"), what="create envelope", cdc=cdc)
        sf.update("Task", task_id, {"Status": "In Progress"})
        reader.wait_for(_count(task_id, 2), what="update by a person", cdc=cdc)
        sf.update("Task", task_id, {"Description": "by the sync"}, user=ADMIN)
        reader.wait_for(_count(task_id, 3), what="update by the sync", cdc=cdc)
        # The integration user, but not through the sync (no client=sfpms): automation.
        sf.api(
            "PATCH",
            f"/sobjects/Task/{task_id}",
            ADMIN,
            json={"Priority": "Low"},
            headers={"Sforce-Call-Options": "client=flow-automation"},
        )
        reader.wait_for(_count(task_id, 4), what="update by automation", cdc=cdc)
        sf.delete("Task", task_id)
        reader.wait_for(_has(task_id, "d"), what="delete envelope", cdc=cdc)

    created, by_person, by_sync, by_automation, deleted = reader.envelopes(task_id)
    assert created["op"] == "c" and created["source"]["origin"] == "person"
    assert created["after"]["Subject"] == "Call Acme"
    # An update event carries only Status; the envelope has the whole record.
    assert by_person["op"] == "u" and by_person["source"]["origin"] == "person"
    assert by_person["after"]["Status"] == "In Progress"
    assert by_person["after"]["Subject"] == "Call Acme"
    assert by_person["after"]["Description"] == "first"
    assert by_person["source"]["modstamp"] == by_person["after"]["SystemModstamp"]
    assert by_person["source"]["commit_ts"] == by_person["source"]["modstamp"]
    assert by_sync["source"]["origin"] == "sync"
    assert by_sync["after"]["Description"] == "by the sync"
    assert by_automation["source"]["origin"] == "person"
    assert by_automation["after"]["Priority"] == "Low"
    assert by_automation["source"]["actor"] == by_sync["source"]["actor"]
    assert deleted["op"] == "d" and deleted["after"] is None
    assert deleted["before"]["IsDeleted"] is True
    assert deleted["before"]["Subject"] == "Call Acme"

    codec = TopicCodec(stack.settings, registry_client(stack.settings), t.SOURCE_POSITIONS)
    stored = load_positions(stack.settings, codec)[pubsub_key(TOPIC)]
    assert stored.replay_id and stored.snapshot_done
    # Five changes, five events; reading their records cost at most one call per event.
    reads = cdc.metrics.registry.get_sample_value("sfpms_cdc_state_reads_total", {"entity": "Task"})
    assert reads is not None and 1 <= reads <= 6


def _subject(record_id: str, subject: str) -> Callable[[list[Record]], bool]:
    def check(records: list[Record]) -> bool:
        return any(
            r.value.get("source", {}).get("id") == record_id
            and (r.value.get("after") or {}).get("Subject") == subject
            for r in records
        )

    return check


def test_a_gap_event_is_answered_by_reading_the_record_it_names(stack: Stack) -> None:
    sf = stack.sf
    with (
        TopicReader(stack.settings, *change_topics()) as reader,
        CdcThread(stack.settings, STREAMED, sources=("salesforce",)) as cdc,
    ):
        cdc.wait_streaming()
        sf.admin("POST", "/pubsub/faults", {"gap": 2})
        task_id = sf.create("Task", {"Subject": "Gap create", "Description": "kept"})
        sf.update("Task", task_id, {"Subject": "Gap update"})
        reader.wait_for(_subject(task_id, "Gap update"), what="the gap events read", cdc=cdc)
    envelopes = reader.envelopes(task_id)
    # Events of one batch become one envelope per record: the state read after them.
    assert envelopes[0]["op"] == "c"
    last = envelopes[-1]
    assert last["after"]["Subject"] == "Gap update"
    assert last["after"]["Description"] == "kept"
    # A gap event says nothing about who changed the record.
    assert {e["source"]["origin"] for e in envelopes} == {"unknown"}
    registry = cdc.metrics.registry
    gaps = sum(
        registry.get_sample_value(
            "sfpms_cdc_pubsub_events_total", {"entity": "Task", "change_type": kind}
        )
        or 0.0
        for kind in ("GAP_CREATE", "GAP_UPDATE")
    )
    assert gaps == 2.0


def test_an_expired_replay_id_is_answered_by_reconciling_the_changes_made_meanwhile(
    make_stack: Callable[..., AbstractContextManager[Stack]],
) -> None:
    with make_stack(event_retention_s=1.0) as stack:
        sf = stack.sf
        with TopicReader(stack.settings, *change_topics()) as reader:
            with CdcThread(stack.settings, STREAMED, sources=("salesforce",)) as cdc:
                cdc.wait_streaming()
                kept = sf.create("Task", {"Subject": "Before the outage"})
                reader.wait_for(_has(kept, "c"), what="a first task", cdc=cdc)
            # The capture is down; people go on working; the events expire meanwhile.
            sf.update("Task", kept, {"Subject": "Edited during the outage"})
            missed = sf.create("Task", {"Subject": "Created during the outage"})
            time.sleep(1.5)
            with CdcThread(stack.settings, STREAMED, sources=("salesforce",)) as cdc:
                reader.wait_for(
                    _subject(kept, "Edited during the outage"), what="the missed edit", cdc=cdc
                )
                reader.wait_for(_has(missed, "c"), what="the missed create", cdc=cdc)
                cdc.wait_streaming()
                after = sf.create("Task", {"Subject": "After the outage"})
                reader.wait_for(_has(after, "c"), what="streaming again", cdc=cdc)
                resumes = cdc.metrics.registry.get_sample_value(
                    "sfpms_cdc_reconciliations_total",
                    {"source": "salesforce", "entity": "Task", "reason": "resume"},
                )
        assert resumes is not None and resumes >= 1
        # A reconciliation reads states, not events: the newest state, origin unknown (op c
        # here: the record was created after the point the reconciliation starts from).
        last = reader.envelopes(kept)[-1]
        assert last["after"]["Subject"] == "Edited during the outage"
        assert last["source"]["origin"] == "unknown"


def test_an_overflow_event_is_answered_by_reconciling_from_its_commit(
    make_stack: Callable[..., AbstractContextManager[Stack]],
) -> None:
    with make_stack() as stack, TopicReader(stack.settings, *change_topics()) as reader:
        sf = stack.sf
        with CdcThread(stack.settings, STREAMED, sources=("salesforce",)) as cdc:
            cdc.wait_streaming()
            sf.admin("POST", "/pubsub/faults", {"overflow": 1})
            big = sf.create("Task", {"Subject": "Part of a huge transaction"})
            reader.wait_for(_has(big, "c"), what="the record behind the overflow", cdc=cdc)
            overflows = cdc.metrics.registry.get_sample_value(
                "sfpms_cdc_reconciliations_total",
                {"source": "salesforce", "entity": "Task", "reason": "overflow"},
            )
        assert overflows == 1.0
        envelope: dict[str, Any] = reader.envelopes(big)[-1]
        assert envelope["after"]["Subject"] == "Part of a huge transaction"


def test_a_restarted_capture_resumes_after_its_stored_replay_id(stack: Stack) -> None:
    sf = stack.sf
    with TopicReader(stack.settings, *change_topics()) as reader:
        with CdcThread(stack.settings, STREAMED, sources=("salesforce",)) as cdc:
            cdc.wait_streaming()
            first = sf.create("Task", {"Subject": "Before the restart"})
            reader.wait_for(_has(first, "c"), what="the first task", cdc=cdc)
        sf.update("Task", first, {"Subject": "While stopped"})
        with CdcThread(stack.settings, STREAMED, sources=("salesforce",)) as cdc:
            reader.wait_for(
                _subject(first, "While stopped"), what="the edit made while stopped", cdc=cdc
            )
            later = sf.create("Task", {"Subject": "After the restart"})
            reader.wait_for(_has(later, "c"), what="a change after the restart", cdc=cdc)
            resumes = cdc.metrics.registry.get_sample_value(
                "sfpms_cdc_reconciliations_total",
                {"source": "salesforce", "entity": "Task", "reason": "resume"},
            )
    # Resumed from the replay id: the edit came as its event (origin person), no reconciliation.
    assert resumes is None
    edited = reader.envelopes(first)[-1]
    assert (edited["op"], edited["source"]["origin"]) == ("u", "person")
