"""The core's inputs and outputs: changes in; write intents, link events and errors out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

System = Literal["salesforce", "custompms"]
Op = Literal["c", "u", "d", "r"]
Origin = Literal["sync", "person", "unknown"]
Action = Literal["create", "update", "delete", "upsert"]

#: Salesforce external-id field that carries the Custompms id on objects that have one.
EXTERNAL_ID_FIELD = "Custompms_Id__c"


@dataclass(frozen=True, slots=True)
class Onboarding:
    """What `sfpms onboard` decided for a record it published again: link it (flow -> the
    other side's id) and/or let it create its twin in these flows although it existed
    before the sync first started."""

    run: str
    link: Mapping[str, str] = field(default_factory=dict)
    create: tuple[str, ...] = ()


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
    op: Op
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
    """A write the core wants done; the engine turns it into a WriteCommand."""

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
    #: Salesforce updates: the SystemModstamp (epoch ms) the decision saw. The sink skips
    #: the write if a person changed the record since (that change is on its way to the
    #: engine, which decides again); None writes unconditionally.
    if_match: int | None = None

    @property
    def partition_key(self) -> str:
        """Writes to one target record share a key, so they stay in order."""
        return self.target_id or self.external_id or self.link_key


@dataclass(frozen=True, slots=True)
class LinkChange:
    """A link established or removed, for the routing table keyed by the Custompms id."""

    pms_id: str
    pms_entity: str
    link_key: str
    flow: str
    action: Literal["linked", "unlinked"]


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
    links: list[LinkChange] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: str | None = None


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """A sink's result for one write command (the engine's view of a WriteResult)."""

    flow: str
    link_key: str
    system: System
    entity: str
    action: Action
    ok: bool
    target_id: str | None
    written: Mapping[str, Any]
    version: int | None = None
    modstamp: int | None = None
    external_id: str | None = None
    created: bool = False
    error: str | None = None
    rejected: bool = False
    #: skipped: someone other than the sync changed the target at `modstamp`, after the
    #: decision; that change is (or will be) folded in, then the write is decided again
    conflict: bool = False
