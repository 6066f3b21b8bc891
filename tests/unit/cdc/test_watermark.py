"""The (timestamp, id) watermark, the overlap window and the keyset queries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.cdc.watermark import (
    Cursor,
    DedupeWindow,
    Mark,
    StampTracker,
    head_soql,
    keyset_condition,
    new_records,
    poll_soql,
    record_digest,
    snapshot_soql,
)

T0 = datetime(2026, 11, 25, 23, 8, 24, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_keyset_condition_pages_past_records_sharing_a_stamp() -> None:
    assert keyset_condition(Cursor(T0, "00T2")) == (
        "SystemModstamp > 2026-11-25T23:08:24.000Z OR "
        "(SystemModstamp = 2026-11-25T23:08:24.000Z AND Id > '00T2')"
    )


def test_keyset_condition_without_id_includes_the_stamp() -> None:
    assert keyset_condition(Cursor(T0)) == "SystemModstamp >= 2026-11-25T23:08:24.000Z"


def test_poll_query_selects_the_fields_in_watermark_order_with_a_limit() -> None:
    soql = poll_soql("Task", ("Id", "Subject", "SystemModstamp"), Cursor(T0, "00T'1"), 50)
    assert soql.startswith("SELECT Id, Subject, SystemModstamp FROM Task WHERE ")
    assert "Id > '00T\\'1'" in soql
    assert soql.endswith("ORDER BY SystemModstamp, Id LIMIT 50")


def test_poll_query_without_a_cursor_reads_from_the_beginning() -> None:
    assert poll_soql("Task", ("Id",), None, 10) == (
        "SELECT Id FROM Task ORDER BY SystemModstamp, Id LIMIT 10"
    )


def test_snapshot_and_head_queries() -> None:
    assert snapshot_soql("Task", ("Id",), "00T1", 5) == (
        "SELECT Id FROM Task WHERE Id > '00T1' ORDER BY Id LIMIT 5"
    )
    assert snapshot_soql("Task", ("Id",), None, 5) == "SELECT Id FROM Task ORDER BY Id LIMIT 5"
    assert "ORDER BY SystemModstamp DESC, Id DESC LIMIT 1" in head_soql("Division")


def test_record_digest_ignores_attributes_and_sees_values() -> None:
    a = {"attributes": {"url": "x"}, "Id": "1", "Subject": "A"}
    assert record_digest(a) == record_digest({"Subject": "A", "Id": "1"})
    assert record_digest(a) != record_digest({"Id": "1", "Subject": "B"})


def test_dedupe_window_forgets_fingerprints_older_than_its_span() -> None:
    window = DedupeWindow(timedelta(seconds=2))
    window.add("old", at(0))
    window.add("new", at(3))
    window.prune(at(4))
    assert "new" in window and "old" not in window and len(window) == 1


def test_tracker_starts_the_next_cycle_one_overlap_before_the_watermark() -> None:
    tracker = StampTracker(Mark(at(10), "00T5"), timedelta(seconds=2))
    assert tracker.cycle_start() == Cursor(at(8))
    exact = StampTracker(Mark(at(10), "00T5"), timedelta(0))
    assert exact.cycle_start() == Cursor(at(10), "00T5")
    assert StampTracker(None, timedelta(seconds=2)).cycle_start() is None


def test_tracker_publishes_a_re_read_record_once_and_rolls_back_to_the_commit() -> None:
    tracker = StampTracker(None, timedelta(seconds=2))
    assert tracker.observe(Mark(at(1), "a"), "a@1")
    assert not tracker.observe(Mark(at(1), "a"), "a@1")
    assert tracker.dirty and tracker.commit() == Mark(at(1), "a") and not tracker.dirty
    assert tracker.observe(Mark(at(2), "b"), "b@2")
    tracker.rollback()
    assert tracker.high == Mark(at(1), "a")
    assert tracker.observe(Mark(at(2), "b"), "b@2"), "after a rollback it is published again"


def test_snapshot_reads_are_remembered_without_moving_the_watermark() -> None:
    tracker = StampTracker(None, timedelta(seconds=2))
    tracker.reset(Mark(at(5), "h"))
    tracker.remember(Mark(at(6), "x"), "x@6")
    tracker.remember(Mark(at(1), "old"), "old@1")  # before the overlap: never re-read
    assert tracker.high == Mark(at(5), "h")
    assert len(tracker.window) == 1
    assert not tracker.observe(Mark(at(6), "x"), "x@6")


# -- the poll cycle against an in-memory table --------------------------------------------


class Table:
    """A table answering keyset queries like SOQL `... ORDER BY stamp, Id LIMIT n` would."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.queries = 0

    def write(self, record_id: str, stamp: datetime) -> None:
        version = self.rows.get(record_id, {}).get("v", 0) + 1
        self.rows[record_id] = {"id": record_id, "stamp": stamp, "v": version}

    async def fetch(self, cursor: Cursor | None, limit: int | None) -> AsyncIterator[Any]:
        self.queries += 1
        rows = sorted(self.rows.values(), key=lambda r: (r["stamp"], r["id"]))
        if cursor is not None and cursor.after_id is None:
            rows = [r for r in rows if r["stamp"] >= cursor.stamp]
        elif cursor is not None:
            rows = [r for r in rows if (r["stamp"], r["id"]) > (cursor.stamp, cursor.after_id)]
        for row in rows[:limit] if limit is not None else rows:
            yield dict(row)


def mark(raw: Mapping[str, Any]) -> Mark:
    return Mark(raw["stamp"], raw["id"])


def fingerprint(raw: Mapping[str, Any], _mark: Mark) -> Hashable:
    return (raw["id"], raw["stamp"], raw["v"])


def poll(tracker: StampTracker, table: Table, limit: int) -> list[tuple[str, int]]:
    async def run() -> list[tuple[str, int]]:
        found = new_records(
            tracker, table.fetch, limit=limit, mark_of=mark, fingerprint_of=fingerprint
        )
        out = [(raw["id"], raw["v"]) async for raw in found]
        tracker.commit()
        return out

    return asyncio.run(run())


def test_many_records_sharing_one_stamp_are_paged_through_with_a_small_limit() -> None:
    table = Table()
    for n in range(200):
        table.write(f"id{n:03d}", at(1))
    tracker = StampTracker(None, timedelta(seconds=1))
    first = poll(tracker, table, limit=7)
    assert sorted(first) == [(f"id{n:03d}", 1) for n in range(200)]
    assert poll(tracker, table, limit=7) == [], "the overlap re-read publishes nothing again"


def test_a_page_of_exactly_limit_records_ends_with_an_empty_page() -> None:
    table = Table()
    for n in range(4):
        table.write(f"id{n}", at(n))
    tracker = StampTracker(None, timedelta(0))
    assert len(poll(tracker, table, limit=2)) == 4
    assert table.queries == 3


def test_a_late_commit_inside_the_overlap_window_is_still_seen() -> None:
    table = Table()
    table.write("b", at(10))
    tracker = StampTracker(None, timedelta(seconds=2))
    assert poll(tracker, table, limit=5) == [("b", 1)]
    table.write("a", at(9))  # committed after the poll, with an earlier stamp
    assert poll(tracker, table, limit=5) == [("a", 1)]


def test_two_edits_in_one_stamp_are_both_published_when_the_values_differ() -> None:
    table = Table()
    table.write("a", at(1))
    tracker = StampTracker(None, timedelta(seconds=1))
    assert poll(tracker, table, limit=5) == [("a", 1)]
    table.write("a", at(1))  # same second, new values (one-second SystemModstamp)
    assert poll(tracker, table, limit=5) == [("a", 2)]


WRITE = st.tuples(
    st.just("write"),
    st.integers(0, 6),  # which record
    st.integers(0, 2),  # how far the clock moves (0: same stamp as before)
    st.integers(0, 2),  # how late it commits (stamp in the past, within the overlap)
)
ACTION = st.one_of(WRITE, st.tuples(st.just("poll"), st.integers(1, 4), st.just(0), st.just(0)))


@settings(max_examples=150, deadline=None)
@given(actions=st.lists(ACTION, max_size=40), overlap=st.sampled_from([2, 3]))
def test_polling_publishes_every_final_state_and_no_state_twice(
    actions: list[tuple[str, int, int, int]], overlap: int
) -> None:
    table = Table()
    tracker = StampTracker(None, timedelta(seconds=overlap))
    clock = 10
    published: list[tuple[str, int]] = []
    for kind, a, b, c in actions:
        if kind == "write":
            clock += b
            table.write(f"r{a}", at(clock - min(c, overlap)))
        else:
            published += poll(tracker, table, limit=a)
    published += poll(tracker, table, limit=3)
    assert len(published) == len(set(published)), "a state was published twice"
    for record_id, row in table.rows.items():
        assert (record_id, row["v"]) in published, f"final state of {record_id} missed"
