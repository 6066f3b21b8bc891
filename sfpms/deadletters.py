"""Read the dead-letter topic and send dead letters through again, once.

How each is re-driven:
- engine and sink dead letters go back to the topic they came from, with their key (so they
  land in the key's partition, where the engine expects them): as they are when the dead
  letter holds the whole record, else the original read back at its topic/partition/offset
  (kept there by the topics' retention, docs/operations.md);
- CDC dead letters name the change topic their record was bound for and the record's id in
  its source system: the record is read again from that system and published as a fresh
  envelope (op `r`), so a record fixed at the source, or a mapping fixed since, goes through.

Every re-driven dead letter is recorded in `sfpms.deadletter.redriven` (compacted, keyed by
the dead letter's partition:offset); `redrive` skips what is recorded there unless asked
to send again, so `sfpms dlq redrive --all` twice does not send anything twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

from foundation.deadletters import DeadLetter
from foundation.kafka import topics as t
from foundation.kafka.serde import TopicCodec, registry_client
from foundation.kafka.tail import read_to_end
from foundation.settings import Settings

Letter = tuple[int, int, dict[str, Any]]


def _read_all(settings: Settings, topic: str) -> list[Letter]:
    """Every record now in a catalogue topic, as (partition, offset, decoded value). A
    listing: what could be read within the quiet spell is shown rather than nothing."""
    codec = TopicCodec(settings, registry_client(settings), topic)
    config = settings.consumer_config(settings.topic("sfpms-dlq-reader"))
    return [
        (r.partition, r.offset, codec.decode(r.value))
        for r in read_to_end(config, settings.topic(topic), idle_s=5.0, strict=False)
        if r.value is not None
    ]


def read_dead_letters(settings: Settings) -> list[Letter]:
    """Every dead letter now in the topic, as (partition, offset, record), oldest first."""
    letters = _read_all(settings, t.DEADLETTER)
    return sorted(letters, key=lambda item: item[2]["failed_at"])


def letter_id(partition: int, offset: int) -> str:
    """How `sfpms dlq` names a dead letter: partition:offset."""
    return f"{partition}:{offset}"


def read_redriven(settings: Settings) -> dict[str, dict[str, Any]]:
    """What was re-driven already, by dead-letter id (the latest entry per id)."""
    done: dict[str, dict[str, Any]] = {}
    for _p, _o, record in sorted(_read_all(settings, t.REDRIVEN), key=lambda x: x[1]):
        done[str(record["dead_letter"])] = record
    return done


@dataclass
class Redrive:
    """What one re-drive did."""

    sent: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # id -> why


def _original(settings: Settings, letter: DeadLetter) -> tuple[bytes | None, bytes | None] | None:
    """The key and value of the record a dead letter came from, read back at its position;
    None when it is gone (retention) or the position is not known."""
    if letter.topic is None or letter.partition is None or letter.offset is None:
        return None
    consumer = Consumer(settings.consumer_config(settings.topic("sfpms-dlq-reader")))
    try:
        consumer.assign(
            [TopicPartition(settings.topic(letter.topic), letter.partition, letter.offset)]
        )
        for _ in range(100):
            msg = consumer.poll(0.2)
            if msg is None or msg.error():
                continue
            if msg.offset() == letter.offset:
                return msg.key(), msg.value()
            return None  # the offset is gone: the log starts later now
        return None
    finally:
        consumer.close()


def redrive_records(
    settings: Settings, letters: Sequence[Letter], *, again: bool = False
) -> Redrive:
    """Send `letters` through again (see the module docstring) and record that they were."""
    report = Redrive()
    done = {} if again else read_redriven(settings)
    producer = Producer(settings.producer_config())
    codec = TopicCodec(settings, registry_client(settings), t.REDRIVEN)
    sent_to: dict[str, tuple[str, str, str]] = {}  # id -> (stage, topic, how)
    cdc: list[tuple[str, DeadLetter]] = []
    for partition, offset, record in letters:
        ident = letter_id(partition, offset)
        letter = DeadLetter.from_record(record)
        if ident in done:
            report.already.append(ident)
            continue
        if letter.stage == "cdc":
            cdc.append((ident, letter))
            continue
        if not letter.topic:
            report.skipped[ident] = "it names no topic to send it to"
            continue
        key: bytes | None
        value: bytes | None
        if letter.whole and letter.value is not None:
            key, value, how = letter.key, letter.value, "as-is"
        else:
            original = _original(settings, letter)
            if original is None:
                report.skipped[ident] = (
                    f"its copy is cut short and {letter.topic} {letter.partition}:"
                    f"{letter.offset} no longer holds the original"
                )
                continue
            (key, value), how = original, "original"
        producer.produce(settings.topic(letter.topic), key=key, value=value)
        sent_to[ident] = (letter.stage, letter.topic, how)
    if cdc:
        for ident, outcome in asyncio.run(_redrive_cdc(settings, cdc)).items():
            if isinstance(outcome, str):
                report.skipped[ident] = outcome
            else:
                sent_to[ident] = outcome
    if producer.flush(30) > 0:
        raise RuntimeError("re-sent records were not acknowledged by the broker; nothing recorded")
    now = datetime.now(UTC)
    for ident, (stage, topic, how) in sent_to.items():
        entry = {
            "dead_letter": ident,
            "stage": stage,
            "sent_to": topic,
            "how": how,
            "redriven_at": now,
        }
        producer.produce(settings.topic(t.REDRIVEN), key=ident.encode(), value=codec.encode(entry))
        report.sent.append(ident)
    if producer.flush(30) > 0:
        raise RuntimeError("the re-drive log was not acknowledged; a second re-drive may repeat")
    return report


async def _redrive_cdc(
    settings: Settings, letters: Sequence[tuple[str, DeadLetter]]
) -> dict[str, tuple[str, str, str] | str]:
    """Read CDC dead letters' records again from their source systems and publish them."""
    from connectors.cdc.custompms_source import CustompmsSource
    from connectors.cdc.metrics import CdcMetrics
    from connectors.cdc.publisher import Publisher
    from connectors.cdc.salesforce_source import SalesforceSource
    from connectors.custompms import CustompmsClient, NotFoundError
    from connectors.salesforce import SalesforceClient
    from foundation.settings import SALESFORCE_OBJECTS, CaptureSettings

    out: dict[str, tuple[str, str, str] | str] = {}
    by_system: dict[str, list[tuple[str, DeadLetter, str]]] = {}
    for ident, letter in letters:
        system, entity = [*(letter.topic or "").split("."), "", ""][:2]
        if system not in ("salesforce", "custompms") or not letter.record:
            out[ident] = "it names no source record (a CDC dead letter from before re-drive)"
            continue
        by_system.setdefault(system, []).append((ident, letter, entity))
    metrics = CdcMetrics()
    registry = registry_client(settings)
    if "salesforce" in by_system:
        names = {name.casefold(): name for name in SALESFORCE_OBJECTS}
        publisher = Publisher(settings, registry, metrics, "salesforce-redrive")
        async with SalesforceClient(settings) as sf:
            source = SalesforceSource(sf, publisher, metrics, CaptureSettings(), {})
            await source.prepare()
            for ident, letter, entity in by_system["salesforce"]:
                sobject = names.get(entity, entity)
                raw = await sf.get(
                    sobject, str(letter.record), list(source.fields.get(sobject, ()))
                )
                if raw is None:
                    out[ident] = f"Salesforce {sobject} {letter.record} no longer exists"
                    continue
                source._emit(sobject, raw, None, snapshot=True)
                out[ident] = ("cdc", t.changes_topic("salesforce", entity), "source")
            await publisher.flush()
        publisher.close()
    if "custompms" in by_system:
        publisher = Publisher(settings, registry, metrics, "custompms-redrive")
        async with CustompmsClient(settings) as pms:
            pms_source = CustompmsSource(
                pms, publisher, metrics, CaptureSettings(), {}, settings.client_name
            )
            for ident, letter, entity in by_system["custompms"]:
                resource = f"{entity}s"
                try:
                    raw = await pms.get(resource, str(letter.record))
                except NotFoundError:
                    out[ident] = f"Custompms {entity} {letter.record} no longer exists"
                    continue
                pms_source._emit_record(resource, raw, None, snapshot=True)
                out[ident] = ("cdc", t.changes_topic("custompms", entity), "source")
            await publisher.flush()
        publisher.close()
    return out
