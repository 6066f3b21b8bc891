"""Lag in seconds from sampled end offsets (kafka-lag-exporter's interpolation)."""

from __future__ import annotations

import pytest

from sfpms.observe.timelag import EndOffsetTable, LagSecondsMethod, lag_seconds


def table(*points: tuple[int, float], capacity: int = 60) -> EndOffsetTable:
    result = EndOffsetTable(capacity)
    for offset, at in points:
        result.record(offset, at)
    return result


def test_an_offset_between_two_samples_is_interpolated() -> None:
    t = table((100, 1000.0), (200, 1010.0), (400, 1020.0))
    assert t.produced_at(150) == (pytest.approx(1005.0), LagSecondsMethod.INTERPOLATED)
    assert t.produced_at(300) == (pytest.approx(1015.0), LagSecondsMethod.INTERPOLATED)


def test_an_offset_older_than_the_table_is_extrapolated_along_first_and_last() -> None:
    t = table((100, 1000.0), (200, 1010.0), (300, 1020.0))
    produced, method = t.produced_at(50) or (0.0, None)
    assert method == LagSecondsMethod.EXTRAPOLATED
    assert produced == pytest.approx(995.0)


def test_an_offset_at_or_past_the_newest_end_has_no_produce_time() -> None:
    t = table((100, 1000.0), (200, 1010.0))
    assert t.produced_at(200) is None
    assert t.produced_at(250) is None


def test_one_sample_is_not_enough() -> None:
    assert table((100, 1000.0)).produced_at(50) is None


def test_a_flat_end_offset_keeps_only_its_latest_sighting() -> None:
    t = table((100, 1000.0), (100, 1005.0), (100, 1009.0), (110, 1010.0))
    assert list(t.points) == [(100, 1009.0), (110, 1010.0)]
    # offset 105 was produced after 1009 (end still 100 then) and by 1010
    assert t.produced_at(105) == (pytest.approx(1009.5), LagSecondsMethod.INTERPOLATED)


def test_the_table_is_bounded_and_forgets_its_oldest_samples() -> None:
    t = table(*((i * 10, float(i)) for i in range(10)), capacity=4)
    assert [offset for offset, _ in t.points] == [60, 70, 80, 90]


def test_a_shrinking_end_offset_resets_the_table() -> None:
    t = table((100, 1.0), (200, 2.0), (5, 3.0))
    assert list(t.points) == [(5, 3.0)]


def test_brackets_says_whether_interpolation_applies() -> None:
    t = table((100, 1.0), (200, 2.0))
    assert t.brackets(100) and t.brackets(199)
    assert not t.brackets(99) and not t.brackets(200)


def test_lag_seconds_is_never_negative() -> None:
    assert lag_seconds(now=100.0, produced_at=90.0) == 10.0
    assert lag_seconds(now=100.0, produced_at=101.0) == 0.0
