"""Lag in seconds, estimated the way kafka-lag-exporter does it.

A sampler records each partition's end offset with the wall time of the poll in a bounded
lookup table. The time at which the committed offset (the oldest message the group has not
yet processed) was produced is read off that table: interpolated between the two samples
that bracket it, or extrapolated along the line through the first and last samples when it
is older than the table. Lag in seconds is now minus that time.

Without history (a one-shot `sfpms lag`, or an offset older than the table) the caller
falls back to the CreateTime of the record at the committed offset; see `LagSecondsMethod`.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum


class LagSecondsMethod(StrEnum):
    """How a partition's lag in seconds was obtained (shown beside the figure)."""

    CAUGHT_UP = "caught-up"  # no lag: zero seconds
    INTERPOLATED = "interpolated"  # between two sampled end offsets
    RECORD = "record"  # CreateTime of the record at the committed offset
    EXTRAPOLATED = "extrapolated"  # beyond the sampled end offsets
    UNKNOWN = "n/a"


@dataclass(slots=True)
class EndOffsetTable:
    """Sampled (end offset, wall time) points of one partition, oldest first, bounded.

    A sample (E, T) says: at time T the partition's end offset was E, so offset E itself had
    not been produced yet. While the end offset stays put only its latest sighting is kept,
    because that is the tightest lower bound for when offset E was produced.
    """

    capacity: int = 60
    points: deque[tuple[int, float]] = field(default_factory=deque)

    def record(self, end_offset: int, at: float) -> None:
        """Add a sample; a smaller end offset than before (topic recreated) resets the table."""
        if self.points and end_offset < self.points[-1][0]:
            self.points.clear()
        if self.points and self.points[-1][0] == end_offset:
            self.points[-1] = (end_offset, at)
            return
        self.points.append((end_offset, at))
        while len(self.points) > self.capacity:
            self.points.popleft()

    def produced_at(self, offset: int) -> tuple[float, LagSecondsMethod] | None:
        """Estimated time at which `offset` was produced, or None without two samples.

        Only offsets below the newest sampled end offset have been produced; asking about a
        later one returns None (its lag is zero anyway).
        """
        points = self.points
        if len(points) < 2 or offset >= points[-1][0]:
            return None
        if offset >= points[0][0]:
            for (x0, t0), (x1, t1) in itertools.pairwise(points):
                if x0 <= offset < x1:
                    return _line(x0, t0, x1, t1, offset), LagSecondsMethod.INTERPOLATED
        (x0, t0), (x1, t1) = points[0], points[-1]
        return _line(x0, t0, x1, t1, offset), LagSecondsMethod.EXTRAPOLATED

    def brackets(self, offset: int) -> bool:
        """Whether `offset` lies inside the sampled range (interpolation, not extrapolation)."""
        return len(self.points) >= 2 and self.points[0][0] <= offset < self.points[-1][0]


def _line(x0: int, t0: float, x1: int, t1: float, x: int) -> float:
    return t0 + (x - x0) * (t1 - t0) / (x1 - x0)


def lag_seconds(now: float, produced_at: float) -> float:
    """Seconds the oldest unprocessed message has waited (never negative: clocks differ)."""
    return max(0.0, now - produced_at)
