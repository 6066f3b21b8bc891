"""Which consumer groups belong to the product, what they read, and what each flow depends on.

Names here are unprefixed; `Settings.topic()` adds the deployment's prefix to both topic and
group names (the engine's Faust app id and the sink groups carry it too).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from foundation.kafka import topics as t
from foundation.settings import Settings
from streams.mapping.flows import FLOWS

ENGINE_GROUP = t.ENGINE_APP
SINK_GROUPS = {"salesforce": "sfpms-sink-salesforce", "custompms": "sfpms-sink-custompms"}
REPLAY_GROUP_PREFIX = "sfpms-replay-"
#: Every product group name starts with this (after the deployment prefix).
PRODUCT_GROUP_PREFIX = "sfpms-"
#: The dashboard's own readers (they never commit); not watched.
OBSERVER_GROUP_PREFIX = "sfpms-observe-"

_ENTITIES = {"salesforce": t.SALESFORCE_OBJECTS, "custompms": t.CUSTOMPMS_RESOURCES}


def expected_topics() -> dict[str, tuple[str, ...]]:
    """Known group -> the topics it consumes (unprefixed). Replay groups are discovered."""
    engine = tuple(t.changes_topic(s, e) for s, es in _ENTITIES.items() for e in es)
    groups = {ENGINE_GROUP: (*engine, t.INBOX, t.RESULTS, t.ROUTES)}
    for system, group in SINK_GROUPS.items():
        groups[group] = (t.writes_topic(system),)
    return groups


@dataclass(frozen=True, slots=True)
class FlowInputs:
    """The (group, topic) pairs whose lag delays one flow (unprefixed names)."""

    flow: str
    pairs: tuple[tuple[str, str], ...]


def flow_inputs() -> tuple[FlowInputs, ...]:
    """Per flow: the change topics of its two entities for the engine group, and its two
    target write topics for the sink groups. Flows that share an entity share its topics,
    so a topic's lag counts in every flow that reads it."""
    inputs = []
    for flow in FLOWS.values():
        sf_entity = flow.sf_object.lower()
        pms_entity = flow.pms_resource
        pairs = (
            (ENGINE_GROUP, t.changes_topic("salesforce", sf_entity)),
            (ENGINE_GROUP, t.changes_topic("custompms", pms_entity)),
            (SINK_GROUPS["custompms"], t.writes_topic("custompms")),
            (SINK_GROUPS["salesforce"], t.writes_topic("salesforce")),
        )
        inputs.append(FlowInputs(flow.name, pairs))
    return tuple(inputs)


@dataclass(frozen=True, slots=True)
class Naming:
    """Prefixed names for one deployment, and the way back."""

    prefix: str

    @classmethod
    def of(cls, settings: Settings) -> Naming:
        return cls(settings.topic_prefix)

    def full(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def short(self, name: str) -> str:
        return name.removeprefix(self.prefix)

    def is_product_group(self, group: str) -> bool:
        return group.startswith(self.full(PRODUCT_GROUP_PREFIX)) and not group.startswith(
            self.full(OBSERVER_GROUP_PREFIX)
        )

    def expected(self) -> Mapping[str, tuple[str, ...]]:
        """Prefixed group -> prefixed topics it is expected to consume."""
        return {
            self.full(group): tuple(self.full(topic) for topic in topics)
            for group, topics in expected_topics().items()
        }

    def flow_pairs(self) -> dict[str, tuple[tuple[str, str], ...]]:
        """Flow name -> prefixed (group, topic) pairs."""
        return {
            inputs.flow: tuple((self.full(g), self.full(tp)) for g, tp in inputs.pairs)
            for inputs in flow_inputs()
        }
