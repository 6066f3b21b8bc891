"""The engine's vocabulary: the events it consumes and the effects it produces. Pure.

Every record an engine agent consumes becomes exactly one `Event` (streams/engine/topology.py
is the one place that maps topics to events and effects to topics). Each event names the
table its state lives in and the key of that state: hub events are keyed by a Salesforce id
(the link key), route events by a Custompms id. `streams.core.step.step` turns
(state, event) into (new state, effects); the live engine, replay and the test world all
run through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from streams.core.model import Change, LinkChange, Problem, WriteIntent, WriteOutcome

Table = Literal["hubs", "routes"]


# -- events ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SalesforceChanged:
    """CDC saw a Salesforce record change (or its deletion)."""

    table: ClassVar[Table] = "hubs"
    change: Change
    source: Mapping[str, Any]

    @property
    def key(self) -> str:
        return self.change.id


@dataclass(frozen=True, slots=True)
class CustompmsChanged:
    """CDC saw a Custompms record change; `raw` is the envelope as consumed, forwarded as is."""

    table: ClassVar[Table] = "routes"
    change: Change
    source: Mapping[str, Any]
    raw: bytes

    @property
    def key(self) -> str:
        return self.change.id


@dataclass(frozen=True, slots=True)
class Forwarded:
    """A Custompms change the routing side forwarded to the hub it is linked to."""

    table: ClassVar[Table] = "hubs"
    link_key: str
    flow: str
    change: Change
    source: Mapping[str, Any]

    @property
    def key(self) -> str:
        return self.link_key


@dataclass(frozen=True, slots=True)
class WriteAcked:
    """A sink reports what it did with a write command."""

    table: ClassVar[Table] = "hubs"
    hub_key: str
    outcome: WriteOutcome
    cause: Mapping[str, Any] | None

    @property
    def key(self) -> str:
        return self.hub_key


@dataclass(frozen=True, slots=True)
class LinkClaimed:
    """A hub linked a Custompms record: its changes are to be routed to that hub."""

    table: ClassVar[Table] = "routes"
    link: LinkChange

    @property
    def key(self) -> str:
        return self.link.pms_id


@dataclass(frozen=True, slots=True)
class LinkReleased:
    """A hub unlinked a Custompms record (a delete rule): its changes are to be ignored."""

    table: ClassVar[Table] = "routes"
    link: LinkChange

    @property
    def key(self) -> str:
        return self.link.pms_id


@dataclass(frozen=True, slots=True)
class LinkRefused:
    """The routing side refused a hub's claim: the record is linked to another hub."""

    table: ClassVar[Table] = "hubs"
    link: LinkChange
    reason: str

    @property
    def key(self) -> str:
        return self.link.link_key


@dataclass(frozen=True, slots=True)
class Tombstone:
    """A record with no value (a compaction marker); nothing to decide."""

    table: ClassVar[Table] = "hubs"
    topic: str

    @property
    def key(self) -> str:
        return ""


Event = (
    SalesforceChanged
    | CustompmsChanged
    | Forwarded
    | WriteAcked
    | LinkClaimed
    | LinkReleased
    | LinkRefused
    | Tombstone
)


# -- effects --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class IssueWrite:
    """Ask a sink to write; `cause` is the change behind it (latency, audit)."""

    intent: WriteIntent
    cause: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class AnnounceLink:
    """Tell the routing side a link was claimed or released."""

    link: LinkChange


@dataclass(frozen=True, slots=True)
class Forward:
    """Send a Custompms change on to its hub; `raw` is the envelope as consumed."""

    link_key: str
    flow: str
    raw: bytes


@dataclass(frozen=True, slots=True)
class RefuseLink:
    """Tell a hub its claim on a Custompms record was refused."""

    link: LinkChange
    reason: str


@dataclass(frozen=True, slots=True)
class Reject:
    """A record the core could not map goes to the dead-letter topic with this reason."""

    problem: Problem


@dataclass(frozen=True, slots=True)
class Skip:
    """Nothing to do, and why (counted, not produced)."""

    reason: str


Effect = IssueWrite | AnnounceLink | Forward | RefuseLink | Reject | Skip
