"""The lag report: per partition, per group, per flow. Plain frozen data with `as_dict()`.

`as_dict()` gives the JSON shape of `sfpms lag --json` and the dashboard API: statuses by
name, unknown seconds as null.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sfpms.observe.burrow import Status, worst
from sfpms.observe.offsets import Member
from sfpms.observe.timelag import LagSecondsMethod


@dataclass(frozen=True, slots=True)
class PartitionLag:
    """One partition of one topic as seen by one group."""

    group: str
    topic: str
    partition: int
    committed: int | None  # None: the group never committed here (it would start at earliest)
    end: int
    earliest: int
    lag: int
    lag_seconds: float | None
    lag_seconds_method: LagSecondsMethod
    status: Status
    complete: bool  # False: an OK with lag from a window too short to judge a trend
    owner: Member = field(default_factory=Member)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "topic": self.topic,
            "partition": self.partition,
            "committed": self.committed,
            "end": self.end,
            "earliest": self.earliest,
            "lag": self.lag,
            "lag_seconds": _round(self.lag_seconds),
            "lag_seconds_method": self.lag_seconds_method.value,
            "status": self.status.name,
            "complete": self.complete,
            "member_host": self.owner.member_host,
            "consumer_id": self.owner.consumer_id,
            "client_id": self.owner.client_id,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class GroupLag:
    """One consumer group: its partitions and its status (the worst partition's)."""

    group: str
    state: str
    exists: bool
    simple: bool
    members: int
    partitions: tuple[PartitionLag, ...]

    @property
    def status(self) -> Status:
        if not self.exists:
            return Status.NOTFOUND
        return worst(p.status for p in self.partitions)

    @property
    def sum_lag(self) -> int:
        return sum(p.lag for p in self.partitions)

    @property
    def max_lag(self) -> int:
        return max((p.lag for p in self.partitions), default=0)

    @property
    def max_lag_seconds(self) -> float | None:
        known = [p.lag_seconds for p in self.partitions if p.lag_seconds is not None]
        return max(known, default=None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "state": self.state,
            "exists": self.exists,
            "status": self.status.name,
            "members": self.members,
            "sum_lag": self.sum_lag,
            "max_lag": self.max_lag,
            "max_lag_seconds": _round(self.max_lag_seconds),
            "partitions": [p.as_dict() for p in self.partitions],
        }


@dataclass(frozen=True, slots=True)
class Latency:
    """End-to-end latency of one flow in seconds, from that flow's own sink histogram:
    quantiles (bucket-interpolated, like Prometheus' histogram_quantile), the exact mean
    (sum / count) and how many writes they rest on."""

    p50: float
    p95: float
    p99: float
    count: int
    mean: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "p50": _round(self.p50),
            "p95": _round(self.p95),
            "p99": _round(self.p99),
            "mean": _round(self.mean),
            "count": self.count,
        }


@dataclass(frozen=True, slots=True)
class FlowLag:
    """A business flow: the lag of the topics it depends on, its latency and dead letters."""

    flow: str
    lag: int
    lag_seconds: float | None
    status: Status
    topics: tuple[tuple[str, str], ...]  # (group, topic)
    latency: Latency | None = None
    dead_letters: int | None = None  # None: not counted (the CLI does not read the DLQ)

    @property
    def health(self) -> str:
        """A colour for people: ok, warn, error, or unknown (no group has started yet)."""
        if self.status >= Status.ERR:
            return "error"
        if self.status == Status.WARN or (self.dead_letters or 0) > 0:
            return "warn"
        if self.status == Status.NOTFOUND:
            return "unknown"
        return "ok"

    def as_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "lag": self.lag,
            "lag_seconds": _round(self.lag_seconds),
            "status": self.status.name,
            "health": self.health,
            "dead_letters": self.dead_letters,
            "latency": self.latency.as_dict() if self.latency else "n/a",
            "topics": [{"group": g, "topic": t} for g, t in self.topics],
        }


@dataclass(frozen=True, slots=True)
class LagReport:
    """Everything `sfpms lag` prints and the dashboard shows, at one moment."""

    taken_at: float
    cluster: str
    groups: tuple[GroupLag, ...]
    flows: tuple[FlowLag, ...]
    dlq_size: int | None
    latency_source: str  # where the latency came from, or why it is n/a

    def group(self, name: str) -> GroupLag | None:
        return next((g for g in self.groups if g.group == name), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "taken_at": self.taken_at,
            "cluster": self.cluster,
            "dlq_size": self.dlq_size,
            "latency_source": self.latency_source,
            "groups": [g.as_dict() for g in self.groups],
            "flows": [f.as_dict() for f in self.flows],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
