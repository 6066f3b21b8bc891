"""Every topic the product uses, with its partitioning and config, in one catalogue.

All data topics share one partition count (`SFPMS_PARTITIONS`) and are keyed by a record id
with the murmur2 partitioner on every producer, so partition p of each topic holds the same
keys and Faust co-partitions them onto one worker (see docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass

SALESFORCE_OBJECTS = ("division", "organization", "task")
CUSTOMPMS_RESOURCES = ("customer", "project", "task")
FOREVER = -1


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic: unprefixed name, partitions (None = the data partition count), config."""

    name: str
    partitions: int | None = None
    compacted: bool = False
    retention_ms: int | None = None
    purpose: str = ""

    def config(self) -> dict[str, str]:
        conf = {"cleanup.policy": "compact" if self.compacted else "delete"}
        if self.retention_ms is not None:
            conf["retention.ms"] = str(self.retention_ms)
        return conf


def changes_topic(system: str, entity: str) -> str:
    """Change envelopes published by CDC, e.g. `salesforce.task.changes`."""
    return f"{system}.{entity}.changes"


def writes_topic(system: str, entity: str) -> str:
    """Write commands for a sink worker, e.g. `custompms.project.writes`."""
    return f"{system}.{entity}.writes"


ACKS = "sfpms.acks"
ROUTES = "sfpms.routes"
INBOX = "sfpms.inbox"
DEADLETTER = "sfpms.deadletter"
SOURCE_POSITIONS = "sfpms.cdc.positions"
SCHEMAS = "_schemas"
ENGINE_APP = "sfpms-engine"


def catalogue() -> list[TopicSpec]:
    """All topics, in the order `sfpms topics create` makes them."""
    specs: list[TopicSpec] = []
    for system, entities in (
        ("salesforce", SALESFORCE_OBJECTS),
        ("custompms", CUSTOMPMS_RESOURCES),
    ):
        for entity in entities:
            specs.append(
                TopicSpec(
                    changes_topic(system, entity),
                    retention_ms=FOREVER,
                    purpose=f"CDC change envelopes from {system} {entity}, kept for replay",
                )
            )
    for system, entities in (
        ("salesforce", SALESFORCE_OBJECTS),
        ("custompms", CUSTOMPMS_RESOURCES),
    ):
        for entity in entities:
            specs.append(
                TopicSpec(
                    writes_topic(system, entity), purpose=f"write commands for {system} {entity}"
                )
            )
    specs += [
        TopicSpec(ACKS, purpose="sink results: links established, state written, failures"),
        TopicSpec(ROUTES, compacted=True, purpose="Custompms id -> link key routing events"),
        TopicSpec(INBOX, purpose="Custompms changes re-keyed to their link key"),
        TopicSpec(DEADLETTER, purpose="records that failed with the reason, for `sfpms dlq`"),
        TopicSpec(
            f"{ENGINE_APP}-hubs-changelog",
            compacted=True,
            purpose="link table (Faust changelog): per Salesforce record, its links and state",
        ),
        TopicSpec(
            f"{ENGINE_APP}-routes-changelog",
            compacted=True,
            purpose="routing table (Faust changelog): Custompms id -> link key",
        ),
        TopicSpec(SOURCE_POSITIONS, partitions=1, compacted=True, purpose="CDC source offsets"),
        TopicSpec(SCHEMAS, partitions=1, compacted=True, purpose="schema registry storage"),
    ]
    return specs
