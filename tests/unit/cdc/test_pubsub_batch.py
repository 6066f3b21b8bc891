"""Change events of a batch -> the records to read, their op and origin (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.cdc.pubsub_batch import (
    OVERFLOW_RECORD_ID,
    Touched,
    plan_batch,
    record_op,
    record_origin,
    records_soql,
)
from connectors.salesforce.pubsub import ChangeEvent, ChangeEventHeader, KeepAlive

T0 = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
SYNC = "com/salesforce/api/rest/60.0;client=sfpms"
PERSON = "com/salesforce/api/rest/60.0;client=alice-ui"


def event(
    kind: str,
    *ids: str,
    origin: str = PERSON,
    at: datetime = T0,
    replay: bytes = b"\x01",
) -> ChangeEvent:
    header = ChangeEventHeader(
        entity_name="Task",
        record_ids=ids,
        change_type=kind,
        change_origin="" if kind.startswith("GAP_") else origin,
        transaction_key="tx",
        sequence_number=1,
        commit_timestamp=at,
        commit_number=1,
        commit_user="005000000000001AAA",
    )
    return ChangeEvent(replay, "e", "schema", header, (), (), ())


def test_events_are_grouped_per_record_in_first_seen_order_and_end_at_the_last_replay_id() -> None:
    plan = plan_batch(
        [
            event("CREATE", "00TA", replay=b"\x01"),
            event("UPDATE", "00TB", "00TA", at=T0 + timedelta(seconds=1), replay=b"\x02"),
            KeepAlive(b"\x03", 0),
        ],
        "sfpms",
    )
    assert [t.record_id for t in plan.touched] == ["00TA", "00TB"]
    assert plan.touched[0].change_types == ["CREATE", "UPDATE"]
    assert plan.touched[0].last_commit == T0 + timedelta(seconds=1)
    assert plan.replay_id == b"\x03" and plan.events == 2
    assert plan.newest_commit == T0 + timedelta(seconds=1)
    assert plan.overflow_since is None


def test_a_keepalive_alone_moves_the_position_but_touches_nothing() -> None:
    plan = plan_batch([KeepAlive(b"\x09", 100)], "sfpms")
    assert (plan.touched, plan.replay_id, plan.events) == ((), b"\x09", 0)


def test_an_overflow_names_no_record_and_asks_for_a_reconciliation_from_its_commit() -> None:
    later = T0 + timedelta(minutes=5)
    plan = plan_batch(
        [event("GAP_OVERFLOW", OVERFLOW_RECORD_ID, at=later), event("GAP_OVERFLOW", at=T0)],
        "sfpms",
    )
    assert plan.touched == () and plan.overflow_since == T0


@pytest.mark.parametrize(
    ("kinds", "record", "op"),
    [
        (["CREATE"], {"Id": "00TA"}, "c"),
        (["UPDATE", "UPDATE"], {"Id": "00TA"}, "u"),
        (["UNDELETE"], {"Id": "00TA"}, "c"),
        (["GAP_CREATE"], {"Id": "00TA"}, "c"),
        (["UPDATE"], {"Id": "00TA", "IsDeleted": True}, "d"),  # deleted since
        (["DELETE"], {"Id": "00TA", "IsDeleted": True}, "d"),
        (["DELETE"], None, "d"),  # purged from the recycle bin
        (["DELETE"], {"Id": "00TA", "IsDeleted": False}, "u"),  # undeleted since
    ],
)
def test_the_op_follows_the_record_read_after_the_events(
    kinds: list[str], record: dict[str, object] | None, op: str
) -> None:
    touched = Touched("00TA", change_types=kinds)
    assert record_op(touched, record) == op


def _touched(*origins: str, last: datetime = T0) -> Touched:
    return Touched("00TA", ["UPDATE"] * len(origins), list(origins), last)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("origins", "modstamp", "origin"),
    [
        (("sync",), T0, "sync"),
        (("sync", "sync"), T0 - timedelta(seconds=1), "sync"),
        # someone changed the record after the sync's event: its state may be theirs
        (("sync",), T0 + timedelta(milliseconds=1), "unknown"),
        (("sync", "person"), T0, "person"),
        (("person", "sync"), T0, "person"),
        (("unknown",), T0, "unknown"),
        (("sync", "unknown"), T0, "unknown"),
        (("person",), None, "person"),
    ],
)
def test_a_state_is_the_syncs_own_only_when_every_event_behind_it_is(
    origins: tuple[str, ...], modstamp: datetime | None, origin: str
) -> None:
    assert record_origin(_touched(*origins), modstamp) == origin


def test_change_origin_names_the_client_and_gap_events_name_nobody() -> None:
    plan = plan_batch(
        [
            event("UPDATE", "00TA", origin=SYNC),
            event("UPDATE", "00TB", origin="com/salesforce/api/rest/60.0"),
            event("GAP_UPDATE", "00TC"),
        ],
        "sfpms",
    )
    assert [t.origins for t in plan.touched] == [["sync"], ["person"], ["unknown"]]


def test_the_state_query_reads_deleted_records_by_quoted_ids() -> None:
    soql = records_soql("Task", ("Id", "Subject"), ["00TA", "00T'B"])
    assert soql == "SELECT Id, Subject FROM Task WHERE Id IN ('00TA', '00T\\'B')"
