"""Where topics meet the engine's vocabulary: the only place that knows which topic carries
which event and which effect goes to which topic.

`read` turns one consumed record into an `Event`; `write` turns an `Effect` into the
records to produce (`Outgoing`); `dead_letter` builds the record for anything that could not
be read or decided. The Faust agents, replay and the benchmarks use these and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from foundation.errors import SyncError
from foundation.kafka import topics as t
from streams.core.envelopes import (
    change_from_envelope,
    command_from_intent,
    dead_letter_for,
    link_change_from_event,
    link_event,
    outcome_from_result,
    rejection_result,
    result_key,
)
from streams.core.events import (
    AnnounceLink,
    CustompmsChanged,
    Effect,
    Event,
    Forward,
    Forwarded,
    IssueWrite,
    LinkClaimed,
    LinkRefused,
    LinkReleased,
    RefuseLink,
    Reject,
    SalesforceChanged,
    Skip,
    Tombstone,
    WriteAcked,
)
from streams.core.model import LinkChange, Problem

FLOW_HEADER = "sfpms-flow"

#: The topics each agent consumes (unprefixed): hub events, keyed by a Salesforce id, and
#: route events, keyed by a Custompms id.
HUB_INPUTS = (*(t.changes_topic("salesforce", e) for e in t.SALESFORCE_OBJECTS), t.INBOX, t.ACKS)
ROUTE_INPUTS = (*(t.changes_topic("custompms", e) for e in t.CUSTOMPMS_RESOURCES), t.ROUTES)


class Codecs(Protocol):
    """How record values are encoded (Avro through the registry in the engine)."""

    def decode(self, topic: str, data: bytes) -> dict[str, Any]: ...

    def encode(self, topic: str, value: dict[str, Any]) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Consumed:
    """One record as an agent consumed it: unprefixed topic, position, key, value, headers."""

    topic: str
    partition: int | None
    offset: int | None
    key: bytes | None
    value: bytes | None
    headers: Mapping[str, bytes]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One record to produce: unprefixed catalogue topic, key, value, headers."""

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


def read(record: Consumed, codecs: Codecs) -> Event:
    """The event one consumed record is; raises if the record cannot be read."""
    topic = record.topic
    if record.value is None:
        return Tombstone(topic)
    if topic == t.ACKS:
        result = codecs.decode(topic, record.value)
        outcome = outcome_from_result(result)
        if outcome.rejected:
            change = _refused_link(result)
            return LinkRefused(change, str(result.get("error") or "already linked"))
        return WriteAcked(result_key(result), outcome, result.get("cause"))
    if topic == t.INBOX:
        envelope = codecs.decode(topic, record.value)
        flow = record.headers.get(FLOW_HEADER, b"").decode()
        link_key = (record.key or b"").decode()
        return Forwarded(link_key, flow, change_from_envelope(envelope), envelope["source"])
    if topic == t.ROUTES:
        link = link_change_from_event(codecs.decode(topic, record.value))
        return LinkClaimed(link) if link.action == "linked" else LinkReleased(link)
    if topic.startswith("salesforce.") and topic.endswith(".changes"):
        envelope = codecs.decode(topic, record.value)
        return SalesforceChanged(change_from_envelope(envelope), envelope["source"])
    if topic.startswith("custompms.") and topic.endswith(".changes"):
        envelope = codecs.decode(topic, record.value)
        return CustompmsChanged(change_from_envelope(envelope), envelope["source"], record.value)
    raise ValueError(f"the engine does not consume {topic}")


def write(effect: Effect, codecs: Codecs, now: int) -> list[Outgoing]:
    """The records an effect produces (none for a skip; dead letters via `dead_letter`)."""
    if isinstance(effect, IssueWrite):
        intent = effect.intent
        command = command_from_intent(intent, effect.cause, now)
        topic = t.writes_topic(intent.system, intent.entity.lower())
        return [Outgoing(topic, intent.partition_key.encode(), codecs.encode(topic, command))]
    if isinstance(effect, AnnounceLink):
        value = codecs.encode(t.ROUTES, link_event(effect.link, now))
        return [Outgoing(t.ROUTES, effect.link.pms_id.encode(), value)]
    if isinstance(effect, Forward):
        headers = ((FLOW_HEADER, effect.flow.encode()),)
        return [Outgoing(t.INBOX, effect.link_key.encode(), effect.raw, headers)]
    if isinstance(effect, RefuseLink):
        reply = codecs.encode(t.ACKS, rejection_result(effect.link, effect.reason, now))
        return [Outgoing(t.ACKS, effect.link.link_key.encode(), reply)]
    if isinstance(effect, Skip | Reject):
        return []
    raise TypeError(f"not an engine effect: {effect!r}")


def dead_letter(
    problem: Problem, record: Consumed, codecs: Codecs, now: int, *, with_key: bool
) -> Outgoing:
    """The dead letter for a problem found while processing `record` (its bytes attached)."""
    letter = dead_letter_for(
        problem,
        stage="engine",
        now=now,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,  # problems too: a re-drive must land in the key's partition
        value=record.value,
    )
    key = (problem.record or "unknown").encode()[:1024]
    return Outgoing(t.DEADLETTER, key, codecs.encode(t.DEADLETTER, letter))


def unreadable(record: Consumed, exc: Exception) -> Problem:
    """The problem of a record that could not be read or decided, naming record and topic."""
    name = (record.key or b"").decode(errors="replace")
    if isinstance(exc, SyncError):
        reason = exc.describe()
    else:
        # A decoder's own words ("list index out of range") say little: name the record,
        # the topic and what was expected.
        reason = (
            f"cannot read record {name or '(no key)'} from {record.topic}: "
            f"{type(exc).__name__}: {exc or 'no detail'}; expected a Confluent Avro frame of "
            "the topic's registered schema"
        )
    return Problem(
        flow=getattr(exc, "flow", None) or None,
        record=getattr(exc, "record", None) or name,
        field=getattr(exc, "field", None),
        error_class=type(exc).__name__,
        reason=reason,
    )


def _refused_link(result: Mapping[str, object]) -> LinkChange:
    return LinkChange(
        pms_id=str(result.get("target_id") or ""),
        pms_entity=str(result["entity"]),
        link_key=str(result["link_key"]),
        flow=str(result["flow"]),
        action="linked",
    )
