"""The core's own types: changes in; write intents, link events and problems out.

What crosses a topic is a wire record (foundation/wire/): results come in as
`WriteResult`/`OpOutcome`, link events go out as `LinkEvent`. A `WriteIntent` is one write
the core wants done; the dispatcher groups a decision's intents into `WriteCommand`s
(streams/core/commands.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from foundation.wire.changes import Onboarding
from foundation.wire.links import LinkEvent
from foundation.wire.values import Action, Origin, System

#: Salesforce external-id field that carries the Custompms id on objects that have one.
EXTERNAL_ID_FIELD = "Custompms_Id__c"

__all__ = [
    "EXTERNAL_ID_FIELD",
    "Action",
    "Change",
    "Decision",
    "LinkEvent",
    "Onboarding",
    "Origin",
    "Problem",
    "System",
    "WriteIntent",
]


@dataclass(frozen=True, slots=True)
class Change:
    """One change of one record, as CDC saw it (the envelope without the Avro).

    `created_ts` is the record's creation time (epoch ms) when known; `scope` the capture's
    scope tags (flow -> in scope; None: not tagged, every flow takes it); `onboarding` the
    onboarding decision, if `sfpms onboard` published it.
    """

    system: System
    entity: str
    id: str
    op: str
    record: Mapping[str, Any] | None
    ts: int
    origin: Origin = "unknown"
    version: int | None = None
    created_ts: int | None = None
    scope: Mapping[str, bool] | None = None
    onboarding: Onboarding | None = None

    @property
    def by_sync(self) -> bool:
        return self.origin == "sync"


@dataclass(frozen=True, slots=True)
class WriteIntent:
    """A write the core wants done; the dispatcher turns intents into a WriteCommand."""

    flow: str
    link_key: str
    system: System
    entity: str
    action: Action
    target_id: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    match: Mapping[str, str] = field(default_factory=dict)
    external_id_field: str | None = None
    external_id: str | None = None
    idempotency_key: str | None = None
    #: The version the decision saw: Salesforce SystemModstamp (epoch ms) or Custompms record
    #: version. The sink skips the write if the record changed since (Salesforce: by anyone;
    #: Custompms: by anyone but the sink's own earlier writes, which it maps forward). That
    #: change is on its way to the engine, which decides again; None writes unconditionally.
    if_match: int | None = None
    #: Fields that take the id of the record another flow's create in the same decision
    #: makes (field -> that flow), e.g. a Task's project_id from the Project created with it.
    refs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Problem:
    """A record the core could not map: it goes to the dead-letter topic with this reason.
    `flow` is None when the record could not even be read (no flow is known yet)."""

    flow: str | None
    record: str
    field: str | None
    error_class: str
    reason: str


@dataclass
class Decision:
    """Everything one input leads to."""

    writes: list[WriteIntent] = field(default_factory=list)
    links: list[LinkEvent] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: str | None = None
