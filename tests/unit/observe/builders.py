"""Crafted offset snapshots for the observe unit tests."""

from __future__ import annotations

from sfpms.observe.groups import Naming
from sfpms.observe.offsets import TP, GroupState, Member, OffsetSnapshot

PREFIX = "p."
NAMING = Naming(PREFIX)
ENGINE = NAMING.full("sfpms-engine")
SINK_PMS = NAMING.full("sfpms-sink-custompms")
SINK_SF = NAMING.full("sfpms-sink-salesforce")
PROJECT_WRITES = NAMING.full("custompms.writes")
TASK_CHANGES = NAMING.full("salesforce.task.changes")


def snapshot(
    at: float,
    ends: dict[TP, int],
    groups: dict[str, GroupState],
    consumes: dict[str, tuple[str, ...]],
    *,
    earliest: dict[TP, int] | None = None,
    errors: dict[TP, str] | None = None,
) -> OffsetSnapshot:
    partitions: dict[str, int] = {}
    for topic, p in ends:
        partitions[topic] = max(partitions.get(topic, 0), p + 1)
    return OffsetSnapshot(
        taken_at=at,
        groups=groups,
        consumes=consumes,
        partitions=partitions,
        latest=ends,
        earliest=earliest or dict.fromkeys(ends, 0),
        errors=errors or {},
    )


def group(
    name: str,
    committed: dict[TP, int],
    *,
    state: str = "STABLE",
    owners: dict[TP, Member] | None = None,
    exists: bool = True,
) -> GroupState:
    owned = owners if owners is not None else dict.fromkeys(committed, Member("h", "c-1", "c"))
    return GroupState(
        group=name,
        state=state,
        exists=exists,
        members=1 if owned else 0,
        committed=committed,
        owners=owned,
    )
