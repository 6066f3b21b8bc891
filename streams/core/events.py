"""The engine's vocabulary: the events it consumes and the effects it produces. Pure.

Every record an engine agent consumes becomes exactly one `Event` (streams/engine/topology.py
is the one place that maps topics to events and effects to topics). Each event names the
table its state lives in and the key of that state: hub events are keyed by a Salesforce id
(the link key), route events by a Custompms id. `streams.core.step.step` turns
(state, event) into (new state, effects); the live engine, replay and the test world all
run through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from foundation.wire import LinkEvent, Source, WriteCommand, WriteResult
from streams.core.model import Change, Problem

Table = Literal["hubs", "routes"]


# -- events ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SalesforceChanged:
    """CDC saw a Salesforce record change (or its deletion)."""

    table: ClassVar[Table] = "hubs"
    change: Change
    source: Source

    @property
    def key(self) -> str:
        return self.change.id


@dataclass(frozen=True, slots=True)
class CustompmsChanged:
    """CDC saw a Custompms record change; `raw` is the envelope as consumed, forwarded as is."""

    table: ClassVar[Table] = "routes"
    change: Change
    source: Source
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
    source: Source

    @property
    def key(self) -> str:
        return self.link_key


@dataclass(frozen=True, slots=True)
class WriteAcked:
    """A sink reports what it did with a write command."""

    table: ClassVar[Table] = "hubs"
    result: WriteResult

    @property
    def key(self) -> str:
        return self.result.hub_key


@dataclass(frozen=True, slots=True)
class LinkClaimed:
    """A hub linked (`linked`) or claimed (`claimed`, an onboarding match) a Custompms
    record: its changes are to be routed to that hub, once the claim is accepted."""

    table: ClassVar[Table] = "routes"
    link: LinkEvent

    @property
    def key(self) -> str:
        return self.link.pms_id


@dataclass(frozen=True, slots=True)
class LinkReleased:
    """A hub unlinked a Custompms record (a delete rule): its changes are to be ignored."""

    table: ClassVar[Table] = "routes"
    link: LinkEvent

    @property
    def key(self) -> str:
        return self.link.pms_id


@dataclass(frozen=True, slots=True)
class LinkAccepted:
    """The routing side accepted a hub's claim on a record the onboarding match found."""

    table: ClassVar[Table] = "hubs"
    link: LinkEvent

    @property
    def key(self) -> str:
        return self.link.link_key


@dataclass(frozen=True, slots=True)
class LinkRefused:
    """The routing side refused a hub's claim: the record is linked to another hub."""

    table: ClassVar[Table] = "hubs"
    link: LinkEvent

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
    | LinkAccepted
    | LinkRefused
    | Tombstone
)


# -- effects --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class IssueWrite:
    """Ask a sink to apply a command (writes to one system for one link, in order)."""

    command: WriteCommand


@dataclass(frozen=True, slots=True)
class AnnounceLink:
    """Tell the routing side a link was claimed or released."""

    link: LinkEvent


@dataclass(frozen=True, slots=True)
class Forward:
    """Send a Custompms change on to its hub; `raw` is the envelope as consumed."""

    link_key: str
    flow: str
    raw: bytes


@dataclass(frozen=True, slots=True)
class AnswerClaim:
    """Tell a hub its claim on a Custompms record was accepted or refused
    (`link.action`; `link.reason` says why a refusal)."""

    link: LinkEvent


@dataclass(frozen=True, slots=True)
class Reject:
    """A record the core could not map goes to the dead-letter topic with this reason."""

    problem: Problem


@dataclass(frozen=True, slots=True)
class Skip:
    """Nothing to do, and why (counted, not produced)."""

    reason: str


Effect = IssueWrite | AnnounceLink | Forward | AnswerClaim | Reject | Skip
