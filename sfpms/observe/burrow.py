"""Burrow's consumer lag evaluation rules, as a pure function over a window of commits.

Burrow (LinkedIn) judges a consumer by the shape of its recent offset commits instead of a
lag threshold. For each partition it keeps a sliding window of (offset, lag, timestamp)
points, one per commit, and applies these rules in order (its wiki, "Consumer Lag
Evaluation Rules"):

1. If the current lag or any lag in the window is zero, the partition is OK.
2. If the committed offset ever goes backwards inside the window: REWIND.
3. If the last commit is older than the span of the window (now - last > last - first):
   STOP, the consumer stopped committing.
4. If the offset never changes over the window (and lag is above zero): STALL.
5. If the offsets move but the lag never decreases anywhere in the window: WARN.
6. Otherwise OK.

ERR is kept for a partition that could not be evaluated (its offsets could not be read);
NOTFOUND for a group the broker does not know. A group's status is its worst partition's.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum


class Status(IntEnum):
    """Burrow's status constants, with Burrow's numbers (exported as `sfpms_burrow_status`).

    The numbers also order them by severity: a higher number is worse.
    """

    NOTFOUND = 0
    OK = 1
    WARN = 2
    ERR = 3
    STOP = 4
    STALL = 5
    REWIND = 6


@dataclass(frozen=True, slots=True)
class CommitPoint:
    """One observed commit of a partition: the offset, the lag then, and when (epoch s)."""

    offset: int
    lag: int
    timestamp: float


def evaluate(
    window: Sequence[CommitPoint],
    now: float,
    *,
    current_lag: int | None = None,
    min_span: float = 0.0,
) -> Status:
    """Burrow's status of one partition from its commit window (oldest first).

    `current_lag` is the lag measured now (defaults to the last point's); `min_span` is the
    shortest silence that counts as STOP, so that a window of a single fresh point is not
    judged stopped the moment it is taken (Burrow's rule alone would). Rules that look at a
    trend (STALL, WARN) need at least two points; with fewer the partition is OK.
    """
    if not window:
        return Status.OK
    lag_now = window[-1].lag if current_lag is None else current_lag
    if lag_now <= 0 or any(point.lag <= 0 for point in window):
        return Status.OK
    if any(later.offset < earlier.offset for earlier, later in _pairs(window)):
        return Status.REWIND
    first, last = window[0], window[-1]
    if now - last.timestamp > max(last.timestamp - first.timestamp, min_span):
        return Status.STOP
    if len(window) < 2:
        return Status.OK
    if all(later.offset == earlier.offset for earlier, later in _pairs(window)):
        return Status.STALL
    if all(later.lag >= earlier.lag for earlier, later in _pairs(window)):
        return Status.WARN
    return Status.OK


def worst(statuses: Iterable[Status]) -> Status:
    """The most severe status (OK for none): a group's status from its partitions'."""
    return max(statuses, default=Status.OK)


def _pairs(window: Sequence[CommitPoint]) -> Iterable[tuple[CommitPoint, CommitPoint]]:
    return itertools.pairwise(window)


@dataclass(slots=True)
class CommitWindow:
    """The sliding window of one (group, topic, partition), fed by periodic polls.

    Burrow reads every commit from `__consumer_offsets`; a poller only sees the committed
    offset at each poll. A poll therefore counts as a commit when there is evidence of one:
    the offset moved, or a live member owns the partition (live consumers keep committing,
    even the same offset). A partition nobody consumes gets no new points, so its last
    point ages until the STOP rule fires.
    """

    size: int = 10
    points: deque[CommitPoint] = field(default_factory=deque)

    def observe(self, offset: int, lag: int, at: float, *, alive: bool) -> None:
        """Record one poll's view of the partition."""
        lag = max(lag, 0)  # Burrow stores a negative lag (end offset read earlier) as zero
        moved = not self.points or self.points[-1].offset != offset
        if moved or alive:
            self.points.append(CommitPoint(offset, lag, at))
            while len(self.points) > self.size:
                self.points.popleft()

    @property
    def complete(self) -> bool:
        """Whether the window holds enough points to judge a trend."""
        return len(self.points) >= 2

    def evaluate(self, now: float, current_lag: int, min_span: float = 0.0) -> Status:
        return evaluate(tuple(self.points), now, current_lag=current_lag, min_span=min_span)
