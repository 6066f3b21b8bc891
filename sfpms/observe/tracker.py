"""Turn successive offset snapshots into lag reports.

The tracker keeps, per partition, the end-offset lookup table (lag in seconds) and, per
(group, partition), the Burrow commit window (status). It does no I/O: the caller feeds it
snapshots and, when asked via `wanted_record_times()`, the CreateTime of records at
committed offsets that the table cannot place.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from sfpms.observe.burrow import CommitWindow, Status, worst
from sfpms.observe.groups import Naming
from sfpms.observe.model import FlowLag, GroupLag, LagReport, Latency, PartitionLag
from sfpms.observe.offsets import TP, GroupState, Member, OffsetSnapshot
from sfpms.observe.timelag import EndOffsetTable, LagSecondsMethod, lag_seconds

NO_OWNER = Member()


@dataclass(frozen=True, slots=True)
class TrackerOptions:
    """Window sizes. Defaults follow Burrow (10 commits) and kafka-lag-exporter (60 samples)."""

    window_size: int = 10
    table_size: int = 60
    #: shortest silence judged STOP (see `burrow.evaluate`'s `min_span`)
    stop_after_s: float = 0.0
    record_cache_size: int = 10_000


@dataclass(frozen=True, slots=True)
class FlowExtras:
    """Figures from outside the offsets that the flow cards show."""

    latency: Mapping[str, Latency]
    dead_letters: Mapping[str, int] | None = None
    dlq_size: int | None = None
    latency_source: str = "n/a"


class LagTracker:
    """Per-partition history for lag seconds and Burrow statuses, bounded in size."""

    def __init__(self, naming: Naming, options: TrackerOptions | None = None) -> None:
        self.naming = naming
        self.options = options or TrackerOptions()
        self.tables: dict[TP, EndOffsetTable] = {}
        self.windows: dict[tuple[str, TP], CommitWindow] = {}
        # (partition, offset) -> CreateTime, or NaN when the record could not be read
        self._record_times: OrderedDict[tuple[TP, int], float] = OrderedDict()

    # -- feeding ---------------------------------------------------------------------------

    def observe(self, snap: OffsetSnapshot) -> None:
        """Add one snapshot's end offsets and commits to the history."""
        for tp, end in snap.latest.items():
            table = self.tables.get(tp)
            if table is None:
                table = self.tables[tp] = EndOffsetTable(self.options.table_size)
            table.record(end, snap.taken_at)
        for group, tp in _group_partitions(snap):
            state = snap.groups[group]
            position = _position(state, tp, snap)
            key = (group, tp)
            window = self.windows.get(key)
            if window is None:
                window = self.windows[key] = CommitWindow(self.options.window_size)
            lag = snap.latest[tp] - position
            window.observe(position, lag, snap.taken_at, alive=state.alive(tp))

    def wanted_record_times(self, snap: OffsetSnapshot) -> dict[TP, int]:
        """Committed offsets whose produce time the lookup table cannot interpolate."""
        wanted: dict[TP, int] = {}
        for group, tp in _group_partitions(snap):
            position = _position(snap.groups[group], tp, snap)
            if snap.latest[tp] <= position or (tp, position) in self._record_times:
                continue
            table = self.tables.get(tp)
            if table is not None and table.brackets(position):
                continue
            wanted[tp] = min(position, wanted.get(tp, position))
        return wanted

    def add_record_times(self, asked: Mapping[TP, int], found: Mapping[TP, float]) -> None:
        """Remember what was read; offsets that could not be read are not asked again."""
        for tp, offset in asked.items():
            self._record_times[(tp, offset)] = found.get(tp, math.nan)
        while len(self._record_times) > self.options.record_cache_size:
            self._record_times.popitem(last=False)

    # -- reporting -------------------------------------------------------------------------

    def report(self, snap: OffsetSnapshot, cluster: str, extras: FlowExtras) -> LagReport:
        """The lag report for `snap`, using the history observed so far."""
        groups = []
        for group in sorted(snap.groups):
            state = snap.groups[group]
            rows = [
                self._partition(snap, state, tp)
                for topic in snap.consumes.get(group, ())
                for tp in snap.tps(topic)
            ]
            groups.append(
                GroupLag(
                    group=group,
                    state=state.state,
                    exists=state.exists,
                    simple=state.simple,
                    members=state.members,
                    partitions=tuple(rows),
                )
            )
        flows = self._flows(groups, extras)
        return LagReport(
            taken_at=snap.taken_at,
            cluster=cluster,
            groups=tuple(groups),
            flows=flows,
            dlq_size=extras.dlq_size,
            latency_source=extras.latency_source,
        )

    def _partition(self, snap: OffsetSnapshot, state: GroupState, tp: TP) -> PartitionLag:
        topic, partition = tp
        end = snap.latest.get(tp)
        earliest = snap.earliest.get(tp, 0)
        error = snap.errors.get(tp)
        if end is None:
            return PartitionLag(
                state.group, topic, partition, state.committed.get(tp), 0, earliest, 0,
                None, LagSecondsMethod.UNKNOWN, Status.ERR, False, error=error or "no end offset",
            )  # fmt: skip
        position = _position(state, tp, snap)
        lag = max(0, end - position)
        seconds, method = self._lag_seconds(tp, position, lag, snap.taken_at)
        window = self.windows.get((state.group, tp))
        if error is not None:
            status = Status.ERR
        elif not state.exists:
            status = Status.NOTFOUND
        elif window is None:
            status = Status.OK
        else:
            status = window.evaluate(snap.taken_at, lag, self.options.stop_after_s)
        return PartitionLag(
            group=state.group,
            topic=topic,
            partition=partition,
            committed=state.committed.get(tp),
            end=end,
            earliest=earliest,
            lag=lag,
            lag_seconds=seconds,
            lag_seconds_method=method,
            status=status,
            # an OK with lag from a one-point window is provisional; any other verdict is not
            complete=lag == 0 or status != Status.OK or (window is not None and window.complete),
            owner=state.owners.get(tp, NO_OWNER),
            error=error,
        )

    def _lag_seconds(
        self, tp: TP, position: int, lag: int, now: float
    ) -> tuple[float | None, LagSecondsMethod]:
        if lag <= 0:
            return 0.0, LagSecondsMethod.CAUGHT_UP
        table = self.tables.get(tp)
        if table is not None and table.brackets(position):
            estimate = table.produced_at(position)
            if estimate is not None:
                return lag_seconds(now, estimate[0]), estimate[1]
        created = self._record_times.get((tp, position))
        if created is not None and not math.isnan(created):
            return lag_seconds(now, created), LagSecondsMethod.RECORD
        estimate = table.produced_at(position) if table is not None else None
        if estimate is not None:
            return lag_seconds(now, estimate[0]), estimate[1]
        return None, LagSecondsMethod.UNKNOWN

    def _flows(self, groups: list[GroupLag], extras: FlowExtras) -> tuple[FlowLag, ...]:
        by_pair: dict[tuple[str, str], list[PartitionLag]] = {}
        for group in groups:
            for row in group.partitions:
                by_pair.setdefault((group.group, row.topic), []).append(row)
        flows = []
        for flow, pairs in self.naming.flow_pairs().items():
            rows = [row for pair in pairs for row in by_pair.get(pair, ())]
            known = [r.lag_seconds for r in rows if r.lag_seconds is not None]
            statuses = [r.status for r in rows]
            counts = extras.dead_letters
            flows.append(
                FlowLag(
                    flow=flow,
                    lag=sum(r.lag for r in rows),
                    lag_seconds=max(known) if known else None,
                    status=worst(statuses) if statuses else Status.NOTFOUND,
                    topics=pairs,
                    latency=extras.latency.get(flow),
                    dead_letters=None if counts is None else counts.get(flow, 0),
                )
            )
        return tuple(flows)


def _group_partitions(snap: OffsetSnapshot) -> list[tuple[str, TP]]:
    return [
        (group, tp)
        for group, topics in snap.consumes.items()
        for topic in topics
        for tp in snap.tps(topic)
        if tp in snap.latest
    ]


def _position(state: GroupState, tp: TP, snap: OffsetSnapshot) -> int:
    """The committed offset, or where the group would start (auto.offset.reset=earliest)."""
    committed = state.committed.get(tp)
    return committed if committed is not None else snap.earliest.get(tp, 0)
