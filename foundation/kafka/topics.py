"""Every topic the product uses, with its partitioning and config, in one catalogue.

Retention: change topics forever (replay); write commands and results 90 days and dead
letters forever by default, each configurable (SFPMS_RETENTION_WRITES_MS,
SFPMS_RETENTION_RESULTS_MS, SFPMS_RETENTION_DEADLETTER_MS; -1 = forever): an outage of a
target system longer than the broker's default 7 days must not drop commands silently,
and a dead letter waits for its operator (docs/operations.md).

All data topics share one partition count (`SFPMS_PARTITIONS`) and are keyed by a record id
with the murmur2 partitioner on every producer, so partition p of each topic holds the same
keys and Faust co-partitions them onto one worker (see docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from foundation.entities import CUSTOMPMS_ENTITIES, topic_name
from foundation.entities import SALESFORCE_OBJECTS as SF_OBJECT_NAMES

#: Entity names as topics spell them (foundation/entities.py holds the lists).
SALESFORCE_OBJECTS = tuple(topic_name(name) for name in SF_OBJECT_NAMES)
CUSTOMPMS_RESOURCES = CUSTOMPMS_ENTITIES
FOREVER = -1
DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic: unprefixed name, partitions (None = the data partition count), config."""

    name: str
    partitions: int | None = None
    compacted: bool = False
    retention_ms: int | None = None
    purpose: str = ""
    #: Which retention setting applies (`writes`, `results`, `deadletter`), if any: it
    #: replaces `retention_ms` (Settings.retention_ms_for).
    retention: str | None = None

    def config(self, retention_ms: int | None = None) -> dict[str, str]:
        """The topic config; `retention_ms` (from the settings) overrides the catalogue's."""
        conf = {"cleanup.policy": "compact" if self.compacted else "delete"}
        kept = retention_ms if retention_ms is not None else self.retention_ms
        if kept is not None:
            conf["retention.ms"] = str(kept)
        return conf


def changes_topic(system: str, entity: str) -> str:
    """Change envelopes published by CDC, e.g. `salesforce.task.changes`."""
    return f"{system}.{entity}.changes"


def writes_topic(system: str) -> str:
    """Write commands for one system's sink workers, e.g. `custompms.writes`; keyed by link,
    so one link's writes stay in order."""
    return f"{system}.writes"


RESULTS = "sfpms.results"
ROUTES = "sfpms.routes"
INBOX = "sfpms.inbox"
DEADLETTER = "sfpms.deadletter"
REDRIVEN = "sfpms.deadletter.redriven"
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
    for system in ("salesforce", "custompms"):
        specs.append(
            TopicSpec(
                writes_topic(system),
                retention_ms=90 * DAY_MS,
                retention="writes",
                purpose=f"write commands for {system}",
            )
        )
    specs += [
        TopicSpec(
            RESULTS,
            retention_ms=90 * DAY_MS,
            retention="results",
            purpose="sink results: links established, state written, failures",
        ),
        TopicSpec(ROUTES, compacted=True, purpose="Custompms id -> link key routing events"),
        TopicSpec(
            INBOX,
            purpose="Custompms changes re-keyed to their link key, and answers to link claims",
        ),
        TopicSpec(
            DEADLETTER,
            retention_ms=FOREVER,
            retention="deadletter",
            purpose="records that failed with the reason, for `sfpms dlq`",
        ),
        TopicSpec(
            REDRIVEN,
            partitions=1,
            compacted=True,
            purpose="dead letters `sfpms dlq redrive` sent again (so it does not send them twice)",
        ),
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
