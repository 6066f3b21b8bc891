"""Burrow's evaluation rules, one crafted window per rule."""

from __future__ import annotations

import pytest

from sfpms.observe.burrow import CommitPoint, CommitWindow, Status, evaluate, worst


def window(*points: tuple[int, int, float]) -> list[CommitPoint]:
    return [CommitPoint(offset, lag, ts) for offset, lag, ts in points]


def test_an_empty_window_is_ok() -> None:
    assert evaluate([], now=100.0) == Status.OK


def test_zero_lag_anywhere_in_the_window_is_ok_even_if_offsets_rewound() -> None:
    points = window((50, 10, 0), (40, 0, 10), (45, 5, 20))
    assert evaluate(points, now=25) == Status.OK


def test_zero_current_lag_is_ok_even_if_the_window_lagged_throughout() -> None:
    points = window((10, 5, 0), (10, 5, 10), (10, 5, 20))
    assert evaluate(points, now=25, current_lag=0) == Status.OK


def test_an_offset_going_backwards_is_a_rewind() -> None:
    points = window((100, 5, 0), (120, 5, 10), (90, 40, 20), (95, 35, 30))
    assert evaluate(points, now=35) == Status.REWIND


def test_rewind_outranks_stop() -> None:
    points = window((100, 5, 0), (90, 15, 10))
    assert evaluate(points, now=1000) == Status.REWIND


def test_no_commit_for_longer_than_the_window_span_is_a_stop() -> None:
    # span 0..40 = 40 s, last commit 41 s ago
    points = window((10, 5, 0), (20, 4, 20), (30, 3, 40))
    assert evaluate(points, now=81) == Status.STOP


def test_a_silence_shorter_than_the_span_is_not_a_stop() -> None:
    points = window((10, 5, 0), (20, 4, 20), (30, 3, 40))
    assert evaluate(points, now=79) == Status.OK


def test_min_span_keeps_a_single_fresh_point_from_being_stopped() -> None:
    points = window((10, 5, 100))
    assert evaluate(points, now=110, min_span=30) == Status.OK
    assert evaluate(points, now=131, min_span=30) == Status.STOP


def test_burrows_own_rule_stops_a_single_point_as_soon_as_time_passes() -> None:
    assert evaluate(window((10, 5, 100)), now=100.5) == Status.STOP


def test_committing_the_same_offset_with_lag_is_a_stall() -> None:
    points = window((10, 5, 0), (10, 7, 10), (10, 9, 20))
    assert evaluate(points, now=21) == Status.STALL


def test_stall_wins_over_warn_when_lag_grows_on_a_fixed_offset() -> None:
    points = window((10, 5, 0), (10, 6, 10))
    assert evaluate(points, now=11) == Status.STALL


def test_offsets_moving_while_lag_never_decreases_is_a_warning() -> None:
    points = window((10, 5, 0), (20, 8, 10), (30, 8, 20), (40, 12, 30))
    assert evaluate(points, now=31) == Status.WARN


def test_a_lag_that_decreases_once_in_the_window_is_ok() -> None:
    points = window((10, 5, 0), (20, 8, 10), (30, 6, 20), (40, 12, 30))
    assert evaluate(points, now=31) == Status.OK


def test_a_single_point_with_lag_and_no_silence_is_ok_for_want_of_a_trend() -> None:
    assert evaluate(window((10, 5, 100)), now=100) == Status.OK


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], Status.OK),
        ([Status.OK, Status.WARN], Status.WARN),
        ([Status.OK, Status.STOP, Status.WARN], Status.STOP),
        ([Status.STALL, Status.ERR], Status.STALL),
        ([Status.REWIND, Status.STALL], Status.REWIND),
        ([Status.NOTFOUND, Status.OK], Status.OK),
    ],
)
def test_a_group_takes_its_worst_partition_status(statuses: list[Status], expected: Status) -> None:
    assert worst(statuses) == expected


def test_status_numbers_are_burrows() -> None:
    assert [s.name for s in sorted(Status)] == [
        "NOTFOUND", "OK", "WARN", "ERR", "STOP", "STALL", "REWIND",
    ]  # fmt: skip
    assert int(Status.OK) == 1 and int(Status.REWIND) == 6


def test_the_window_records_a_poll_when_the_offset_moved() -> None:
    w = CommitWindow(size=3)
    w.observe(10, 5, 0.0, alive=False)
    w.observe(12, 5, 5.0, alive=False)
    w.observe(12, 6, 10.0, alive=False)  # no evidence of a commit: nobody owns it
    assert [p.offset for p in w.points] == [10, 12]


def test_the_window_records_every_poll_of_a_partition_a_live_member_owns() -> None:
    w = CommitWindow(size=3)
    for at in (0.0, 5.0, 10.0, 15.0):
        w.observe(10, 5, at, alive=True)
    assert [p.timestamp for p in w.points] == [5.0, 10.0, 15.0]
    assert w.evaluate(now=16.0, current_lag=5) == Status.STALL


def test_an_abandoned_partition_with_lag_ends_up_stopped() -> None:
    w = CommitWindow(size=10)
    w.observe(10, 5, 0.0, alive=True)
    w.observe(20, 5, 5.0, alive=True)
    for at in (10.0, 15.0, 20.0):
        w.observe(20, 8, at, alive=False)
    assert w.evaluate(now=9.0, current_lag=8) == Status.WARN
    assert w.evaluate(now=20.0, current_lag=8) == Status.STOP


def test_the_window_stores_a_negative_lag_as_zero_like_burrow() -> None:
    w = CommitWindow()
    w.observe(10, -2, 0.0, alive=True)
    assert w.points[-1].lag == 0
