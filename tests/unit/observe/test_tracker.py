"""From offset snapshots to lag reports: figures, seconds, statuses and flows."""

from __future__ import annotations

import pytest

from sfpms.observe.burrow import Status
from sfpms.observe.offsets import Member
from sfpms.observe.timelag import LagSecondsMethod
from sfpms.observe.tracker import FlowExtras, LagTracker, TrackerOptions
from tests.unit.observe.builders import (
    ENGINE,
    NAMING,
    PROJECT_WRITES,
    SINK_PMS,
    TASK_CHANGES,
    group,
    snapshot,
)

NO_EXTRAS = FlowExtras(latency={})


def test_lag_is_end_minus_committed_per_partition() -> None:
    tracker = LagTracker(NAMING)
    snap = snapshot(
        100.0,
        {(PROJECT_WRITES, 0): 10, (PROJECT_WRITES, 1): 7},
        {SINK_PMS: group(SINK_PMS, {(PROJECT_WRITES, 0): 4, (PROJECT_WRITES, 1): 7})},
        {SINK_PMS: (PROJECT_WRITES,)},
    )
    tracker.observe(snap)
    report = tracker.report(snap, "c", NO_EXTRAS)
    rows = {r.partition: r for r in report.groups[0].partitions}
    assert (rows[0].committed, rows[0].end, rows[0].lag) == (4, 10, 6)
    assert (rows[1].lag, rows[1].lag_seconds, rows[1].lag_seconds_method) == (
        0,
        0.0,
        LagSecondsMethod.CAUGHT_UP,
    )
    assert report.groups[0].sum_lag == 6 and report.groups[0].max_lag == 6


def test_a_partition_never_committed_lags_from_the_earliest_offset() -> None:
    tracker = LagTracker(NAMING)
    snap = snapshot(
        100.0,
        {(PROJECT_WRITES, 0): 10},
        {SINK_PMS: group(SINK_PMS, {})},
        {SINK_PMS: (PROJECT_WRITES,)},
        earliest={(PROJECT_WRITES, 0): 3},
    )
    tracker.observe(snap)
    row = tracker.report(snap, "c", NO_EXTRAS).groups[0].partitions[0]
    assert row.committed is None and row.lag == 7


def test_lag_seconds_interpolates_between_sampled_end_offsets() -> None:
    tracker = LagTracker(NAMING)
    members = {SINK_PMS: group(SINK_PMS, {(PROJECT_WRITES, 0): 0})}
    for at, end in ((100.0, 0), (110.0, 100), (120.0, 200)):
        tracker.observe(
            snapshot(at, {(PROJECT_WRITES, 0): end}, members, {SINK_PMS: (PROJECT_WRITES,)})
        )
    snap = snapshot(
        130.0,
        {(PROJECT_WRITES, 0): 200},
        {SINK_PMS: group(SINK_PMS, {(PROJECT_WRITES, 0): 150})},
        {SINK_PMS: (PROJECT_WRITES,)},
    )
    tracker.observe(snap)
    assert tracker.wanted_record_times(snap) == {}
    row = tracker.report(snap, "c", NO_EXTRAS).groups[0].partitions[0]
    # offset 150 was produced half way between 110 s and 130 s (end 100 -> 200)
    assert row.lag_seconds == pytest.approx(10.0)
    assert row.lag_seconds_method == LagSecondsMethod.INTERPOLATED


def test_without_history_the_record_create_time_gives_the_seconds() -> None:
    tracker = LagTracker(NAMING)
    snap = snapshot(
        100.0,
        {(PROJECT_WRITES, 0): 10},
        {SINK_PMS: group(SINK_PMS, {(PROJECT_WRITES, 0): 4})},
        {SINK_PMS: (PROJECT_WRITES,)},
    )
    tracker.observe(snap)
    wanted = tracker.wanted_record_times(snap)
    assert wanted == {(PROJECT_WRITES, 0): 4}
    tracker.add_record_times(wanted, {(PROJECT_WRITES, 0): 58.0})
    assert tracker.wanted_record_times(snap) == {}
    row = tracker.report(snap, "c", NO_EXTRAS).groups[0].partitions[0]
    assert row.lag_seconds == pytest.approx(42.0)
    assert row.lag_seconds_method == LagSecondsMethod.RECORD


def test_an_unreadable_record_is_not_asked_again_and_leaves_seconds_unknown() -> None:
    tracker = LagTracker(NAMING)
    snap = snapshot(
        100.0,
        {(PROJECT_WRITES, 0): 10},
        {SINK_PMS: group(SINK_PMS, {(PROJECT_WRITES, 0): 4})},
        {SINK_PMS: (PROJECT_WRITES,)},
    )
    tracker.observe(snap)
    tracker.add_record_times(tracker.wanted_record_times(snap), {})
    assert tracker.wanted_record_times(snap) == {}
    row = tracker.report(snap, "c", NO_EXTRAS).groups[0].partitions[0]
    assert row.lag_seconds is None and row.lag_seconds_method == LagSecondsMethod.UNKNOWN


def test_a_live_consumer_stuck_on_one_offset_is_stalled() -> None:
    tracker = LagTracker(NAMING)
    state = group(SINK_PMS, {(PROJECT_WRITES, 0): 4})
    for at in (100.0, 105.0, 110.0):
        snap = snapshot(
            at, {(PROJECT_WRITES, 0): 10}, {SINK_PMS: state}, {SINK_PMS: (PROJECT_WRITES,)}
        )
        tracker.observe(snap)
    report = tracker.report(snap, "c", NO_EXTRAS)
    assert report.groups[0].partitions[0].status == Status.STALL
    assert report.groups[0].status == Status.STALL


def test_a_group_nobody_consumes_is_stopped_after_the_configured_silence() -> None:
    tracker = LagTracker(NAMING, TrackerOptions(stop_after_s=30.0))
    state = group(SINK_PMS, {(PROJECT_WRITES, 0): 4}, state="EMPTY", owners={})
    consumes: dict[str, tuple[str, ...]] = {SINK_PMS: (PROJECT_WRITES,)}
    first = snapshot(100.0, {(PROJECT_WRITES, 0): 10}, {SINK_PMS: state}, consumes)
    tracker.observe(first)
    assert tracker.report(first, "c", NO_EXTRAS).groups[0].status == Status.OK
    later = snapshot(140.0, {(PROJECT_WRITES, 0): 10}, {SINK_PMS: state}, consumes)
    tracker.observe(later)
    assert tracker.report(later, "c", NO_EXTRAS).groups[0].status == Status.STOP


def test_an_unknown_group_is_notfound_but_still_shows_the_backlog() -> None:
    tracker = LagTracker(NAMING)
    snap = snapshot(
        100.0,
        {(TASK_CHANGES, 0): 5},
        {ENGINE: group(ENGINE, {}, state="DEAD", exists=False)},
        {ENGINE: (TASK_CHANGES,)},
    )
    tracker.observe(snap)
    g = tracker.report(snap, "c", NO_EXTRAS).groups[0]
    assert g.status == Status.NOTFOUND
    assert g.partitions[0].lag == 5


def test_a_partition_whose_offsets_failed_is_an_error() -> None:
    tracker = LagTracker(NAMING)
    snap = snapshot(
        100.0,
        {(PROJECT_WRITES, 0): 10},
        {SINK_PMS: group(SINK_PMS, {(PROJECT_WRITES, 0): 10})},
        {SINK_PMS: (PROJECT_WRITES,)},
        errors={(PROJECT_WRITES, 0): "ListOffsets failed: boom"},
    )
    tracker.observe(snap)
    row = tracker.report(snap, "c", NO_EXTRAS).groups[0].partitions[0]
    assert row.status == Status.ERR and row.error


def test_flow_lag_adds_the_engine_change_topics_and_the_sink_write_topics() -> None:
    tracker = LagTracker(NAMING)
    owner = Member("host", "id", "client")
    snap = snapshot(
        100.0,
        {(TASK_CHANGES, 0): 8, (PROJECT_WRITES, 0): 5},
        {
            ENGINE: group(ENGINE, {(TASK_CHANGES, 0): 6}, owners={(TASK_CHANGES, 0): owner}),
            SINK_PMS: group(SINK_PMS, {(PROJECT_WRITES, 0): 2}),
        },
        {ENGINE: (TASK_CHANGES,), SINK_PMS: (PROJECT_WRITES,)},
    )
    tracker.observe(snap)
    report = tracker.report(snap, "c", FlowExtras(latency={}, dead_letters={"task_project": 2}))
    flows = {f.flow: f for f in report.flows}
    # task_project reads salesforce.task.changes (2 behind) and custompms.writes (3)
    assert flows["task_project"].lag == 5
    assert flows["task_project"].dead_letters == 2
    assert flows["task_project"].health == "warn"
    # task_task shares both: the Task change topic and the one Custompms write topic
    assert flows["task_task"].lag == 5
    # division_customer shares only the write topic (its change topics are not watched here)
    assert flows["division_customer"].lag == 3
    assert flows["division_customer"].status == Status.OK
