"""Adaptive poll intervals, Bulk-or-REST, capture settings and positions with replay ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.cdc.backfill import choose_reader
from connectors.cdc.pacing import adaptive_interval
from connectors.cdc.positions import Position, backfill_key, pubsub_key
from connectors.cdc.salesforce_source import start_position
from connectors.cdc.watermark import Cursor, Mark, StampTracker
from foundation.settings import CaptureSettings

T0 = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)


def test_an_idle_sobject_is_polled_ever_more_slowly_and_fast_again_after_a_change() -> None:
    intervals: list[float] = []
    current: float | None = None
    for changed in (False, False, False, False, False, False, False, True, False):
        current = adaptive_interval(current, changed, 5.0, 180.0)
        intervals.append(current)
    assert intervals == [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 180.0, 5.0, 10.0]


def test_an_idle_interval_below_the_fast_one_never_slows_polling_down() -> None:
    assert adaptive_interval(0.2, False, 0.2, 0.1) == 0.2


def test_two_idle_sobjects_cost_less_than_a_thousand_calls_a_day() -> None:
    options = CaptureSettings()
    assert options.polled_objects() == ("Division", "Organization")
    assert len(options.polled_objects()) * 86_400 / options.idle_poll_interval_s <= 1_000


def test_task_is_polled_only_without_change_data_capture() -> None:
    assert "Task" in CaptureSettings(task_capture="poll").polled_objects()


@pytest.mark.parametrize(
    ("total", "threshold", "via"),
    [(9_999, 10_000, "rest"), (10_000, 10_000, "bulk"), (100_000, 10_000, "bulk"), (5, 0, "rest")],
)
def test_large_sobjects_are_read_through_bulk_and_small_ones_through_rest(
    total: int, threshold: int, via: str
) -> None:
    assert choose_reader(total, threshold) == via


def test_a_sweep_rereads_its_lookback_and_recognises_what_it_published() -> None:
    tracker = StampTracker(Mark(T0, "00TB"), timedelta(seconds=2), timedelta(minutes=15))
    assert tracker.cycle_start() == Cursor(T0 - timedelta(seconds=2))
    assert tracker.cycle_start(timedelta(minutes=15)) == Cursor(T0 - timedelta(minutes=15))
    late = Mark(T0 - timedelta(minutes=10), "00TA")
    assert tracker.observe(late, ("late", 1)) is True
    assert tracker.observe(late, ("late", 1)) is False  # a later sweep reads it again
    tracker.commit()
    assert ("late", 1) in tracker.window  # kept for the whole lookback


def test_positions_carry_replay_ids_through_their_avro_record() -> None:
    position = Position(
        pubsub_key("/data/TaskChangeEvent"), Mark(T0, ""), snapshot_done=True, replay_id=b"\x00\x07"
    )
    record = position.to_record(T0)
    assert Position.from_record(record) == position
    assert position.source == "salesforce/pubsub/TaskChangeEvent"
    assert backfill_key("salesforce", "Task") == "backfill/salesforce/Task"
    old = {k: v for k, v in record.items() if k != "replay_id"}  # written before the field
    assert Position.from_record(old).replay_id is None


def test_polling_task_after_change_data_capture_starts_where_the_stream_stopped() -> None:
    streamed = Position(
        pubsub_key("/data/TaskChangeEvent"), Mark(T0, ""), snapshot_done=True, replay_id=b"\x01"
    )
    start = start_position({streamed.source: streamed}, "Task")
    assert start is not None and start.snapshot_done and start.mark == Mark(T0, "")
    assert start_position({}, "Task") is None
