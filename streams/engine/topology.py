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

from foundation.deadletters import dead_letter as build_dead_letter
from foundation.errors import SyncError
from foundation.kafka import topics as t
from foundation.wire import ChangeEnvelope, LinkEvent, WriteResult
from streams.core.envelopes import change_from_envelope
from streams.core.events import (
    AnnounceLink,
    AnswerClaim,
    CustompmsChanged,
    Effect,
    Event,
    Forward,
    Forwarded,
    IssueWrite,
    LinkAccepted,
    LinkClaimed,
    LinkRefused,
    LinkReleased,
    Reject,
    SalesforceChanged,
    Skip,
    Tombstone,
    WriteAcked,
)
from streams.core.model import Problem

#: On the inbox: the flow of a forwarded Custompms change. The routing side's answer to a
#: claim (a LinkEvent, accepted or refused) carries KIND_HEADER = ANSWER instead.
FLOW_HEADER = "sfpms-flow"
KIND_HEADER = "sfpms-kind"
ANSWER = b"answer"

#: The topics each agent consumes (unprefixed): hub events, keyed by a Salesforce id, and
#: route events, keyed by a Custompms id.
HUB_INPUTS = (*(t.changes_topic("salesforce", e) for e in t.SALESFORCE_OBJECTS), t.INBOX, t.RESULTS)
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
    if topic == t.RESULTS:
        return WriteAcked(WriteResult.from_avro(codecs.decode(topic, record.value)))
    if topic == t.INBOX:
        if record.headers.get(KIND_HEADER) == ANSWER:
            answer = LinkEvent.from_avro(codecs.decode(topic, record.value))
            if answer.action == "accepted":
                return LinkAccepted(answer)
            if answer.action == "refused":
                return LinkRefused(answer)
            raise ValueError(f"an answer to a claim is accepted or refused, not {answer.action}")
        envelope = ChangeEnvelope.from_avro(codecs.decode(topic, record.value))
        flow = record.headers.get(FLOW_HEADER, b"").decode()
        link_key = (record.key or b"").decode()
        return Forwarded(link_key, flow, change_from_envelope(envelope), envelope.source)
    if topic == t.ROUTES:
        link = LinkEvent.from_avro(codecs.decode(topic, record.value))
        if link.action in ("linked", "claimed"):
            return LinkClaimed(link)
        if link.action == "unlinked":
            return LinkReleased(link)
        raise ValueError(f"an answer to a claim ({link.action}) belongs on the inbox")
    if topic.startswith("salesforce.") and topic.endswith(".changes"):
        envelope = ChangeEnvelope.from_avro(codecs.decode(topic, record.value))
        return SalesforceChanged(change_from_envelope(envelope), envelope.source)
    if topic.startswith("custompms.") and topic.endswith(".changes"):
        envelope = ChangeEnvelope.from_avro(codecs.decode(topic, record.value))
        change = change_from_envelope(envelope)
        return CustompmsChanged(change, envelope.source, record.value)
    raise ValueError(f"the engine does not consume {topic}")


def write(effect: Effect, codecs: Codecs) -> list[Outgoing]:
    """The records an effect produces (none for a skip; dead letters via `dead_letter`)."""
    if isinstance(effect, IssueWrite):
        command = effect.command
        topic = t.writes_topic(command.system)
        value = codecs.encode(topic, command.to_avro())
        return [Outgoing(topic, command.link_key.encode(), value)]
    if isinstance(effect, AnnounceLink):
        value = codecs.encode(t.ROUTES, effect.link.to_avro())
        return [Outgoing(t.ROUTES, effect.link.pms_id.encode(), value)]
    if isinstance(effect, Forward):
        headers = ((FLOW_HEADER, effect.flow.encode()),)
        return [Outgoing(t.INBOX, effect.link_key.encode(), effect.raw, headers)]
    if isinstance(effect, AnswerClaim):
        value = codecs.encode(t.INBOX, effect.link.to_avro())
        headers = ((KIND_HEADER, ANSWER),)
        return [Outgoing(t.INBOX, effect.link.link_key.encode(), value, headers)]
    if isinstance(effect, Skip | Reject):
        return []
    raise TypeError(f"not an engine effect: {effect!r}")


def dead_letter(problem: Problem, record: Consumed, codecs: Codecs, now: int) -> Outgoing:
    """The dead letter for a problem found while processing `record`: a bounded copy of its
    bytes and key (a re-drive puts it back in the key's partition; foundation/deadletters)."""
    letter = build_dead_letter(
        "engine",
        error_class=problem.error_class,
        reason=problem.reason,
        flow=problem.flow,
        record=problem.record,
        field=problem.field,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value,
        failed_at=now,
    )
    value = codecs.encode(t.DEADLETTER, letter.to_record())
    return Outgoing(t.DEADLETTER, letter.message_key, value)


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
