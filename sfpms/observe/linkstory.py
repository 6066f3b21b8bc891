"""Why is this record in this state: one link's records, provenance and recent history.

`link_story(settings, id)` finds the link of a Salesforce or Custompms id in the engine's
link table (its changelog), then reads what the topics hold about it since `since_ms`:
the changes CDC saw on both sides, the writes the engine issued, the sinks' results, and
dead letters. Every topic is keyed by a record id and partitioned with murmur2, so only
the partitions those ids hash to are read (from the offset of `since_ms`), not the topics;
the dead-letter topic, whose engine letters may carry no key, is read whole.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aiokafka.partitioner import murmur2
from confluent_kafka import Consumer, TopicPartition

from foundation.kafka import topics as t
from foundation.kafka.serde import AnyDecoder, registry_client
from foundation.settings import Settings
from sfpms.observe.linkevents import (
    Event,
    change_event,
    dead_letter_event,
    result_event,
    targets,
    who,
    write_event,
)
from streams.core.hub import Hub
from streams.mapping.flows import FLOWS

DAY_MS = 24 * 3600 * 1000
Reader = Callable[[str, int, int, Mapping[str, Any]], Event]


class NoSuchLink(LookupError):
    """The id is in no link the engine knows."""


def partition_of(key: str, partitions: int) -> int:
    """The partition murmur2 puts `key` in, as Faust and every sfpms producer do."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def find_hub(hubs: Mapping[str, Hub], record_id: str) -> Hub:
    hub = hubs.get(record_id)
    if hub is None:
        hub = next(
            (h for h in hubs.values() if any(k.pms_id == record_id for k in h.links.values())),
            None,
        )
    if hub is None:
        raise NoSuchLink(
            f"{record_id} is in no link: check the id, or `sfpms links find` to list links"
        )
    return hub


def read_keyed(
    settings: Settings,
    topic: str,
    keys: Iterable[str],
    since_ms: int,
    *,
    whole: bool = False,
    limit: int = 2000,
) -> list[tuple[int, int, bytes | None, bytes]]:
    """(partition, offset, key, value) of records in the partitions of `keys` since
    `since_ms`, up to the end offsets seen at the start (bounded: never waits for more)."""
    name = settings.topic(topic)
    consumer = Consumer(settings.consumer_config(settings.topic("sfpms-observe-links")))
    try:
        metadata = consumer.list_topics(name, timeout=10).topics.get(name)
        if metadata is None or metadata.error is not None:
            return []
        count = len(metadata.partitions)
        chosen = set(metadata.partitions) if whole else {partition_of(k, count) for k in keys}
        starts = consumer.offsets_for_times(
            [TopicPartition(name, p, since_ms) for p in sorted(chosen)], timeout=10
        )
        ends: dict[int, int] = {}
        assign = []
        for tp in starts:
            _low, high = consumer.get_watermark_offsets(TopicPartition(name, tp.partition), 10)
            start = tp.offset if tp.offset >= 0 else high
            if start < high:
                ends[tp.partition] = high
                assign.append(TopicPartition(name, tp.partition, max(start, high - limit)))
        if not assign:
            return []
        consumer.assign(assign)
        found: list[tuple[int, int, bytes | None, bytes]] = []
        deadline = time.monotonic() + 30
        while ends and time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None or msg.error():
                continue
            partition, offset = int(msg.partition() or 0), int(msg.offset() or 0)
            if msg.value() is not None:
                found.append((partition, offset, msg.key(), msg.value() or b""))
            if offset >= ends.get(partition, 0) - 1:
                ends.pop(partition, None)
        return found
    finally:
        consumer.close()


def _ids(hub: Hub) -> tuple[set[str], set[str]]:
    """(every record id of the link, every link key its records may carry)."""
    ids = {hub.sf_id} | {link.pms_id for link in hub.links.values() if link.pms_id}
    return ids, {hub.sf_id} | {f"pms:{i}" for i in ids}


def history(settings: Settings, hub: Hub, since_ms: int) -> list[Event]:
    """Every event about the link on the topics since `since_ms`, oldest first."""
    decoder = AnyDecoder(registry_client(settings))
    ids, link_keys = _ids(hub)
    pms_entities = {FLOWS[f].pms_resource for f in hub.links if f in FLOWS}
    sf_entity = hub.sf_object.lower()
    plan: list[tuple[str, set[str], Reader, Callable[[Mapping[str, Any]], bool], bool]] = [
        (
            t.changes_topic("salesforce", sf_entity),
            {hub.sf_id},
            change_event,
            lambda r: r["source"]["id"] in ids,
            False,
        ),
        (
            t.writes_topic("salesforce"),
            ids | link_keys,
            write_event,
            lambda r: r["link_key"] in link_keys or bool(targets(r) & ids),
            False,
        ),
        (
            t.writes_topic("custompms"),
            ids | link_keys,
            write_event,
            lambda r: r["link_key"] in link_keys or bool(targets(r) & ids),
            False,
        ),
        (
            t.RESULTS,
            link_keys | ids,
            result_event,
            lambda r: r["link_key"] in link_keys or bool(targets(r) & ids),
            False,
        ),
        (
            t.DEADLETTER,
            ids,
            dead_letter_event,
            lambda r: (
                r.get("record") in ids or (r.get("key") or b"").decode(errors="replace") in ids
            ),
            True,
        ),
    ]
    for entity in sorted(pms_entities):
        pms_ids = {link.pms_id for link in hub.links.values() if link.pms_id}
        plan += [
            (
                t.changes_topic("custompms", entity),
                pms_ids,
                change_event,
                lambda r: r["source"]["id"] in ids,
                False,
            ),
        ]
    events: list[Event] = []
    for topic, keys, to_event, wanted, whole in plan:
        for partition, offset, _key, value in read_keyed(
            settings, topic, keys, since_ms, whole=whole
        ):
            try:
                record = decoder.decode(value)
            except Exception:  # noqa: S112 - a foreign record is not about this link
                continue
            if wanted(record):
                events.append(to_event(settings.topic(topic), partition, offset, record))
    return sorted(events, key=lambda e: (e.at_ms, e.topic, e.offset))


def provenance(hub: Hub, events: list[Event]) -> list[dict[str, Any]]:
    """Per Salesforce field: the winning value, which side set it, who and when."""
    rows = []
    for name, winner in sorted(hub.winners.items()):
        side = "Salesforce" if winner.source == "sf" else f"Custompms ({winner.source})"
        system = "salesforce" if winner.source == "sf" else "custompms"
        actor = next(
            (
                e.detail.get("actor") or ("the sync" if e.detail.get("origin") == "sync" else None)
                for e in events
                if e.kind == "change" and e.system == system and e.at_ms == winner.ts
            ),
            None,
        )
        rows.append(
            {
                "field": name,
                "value": winner.value,
                "side": side,
                "who": actor or "a person",
                "at_ms": winner.ts,
                "at": Event(winner.ts, "", "", "", "", 0, 0).as_dict()["at"],
            }
        )
    return rows


def link_story(
    settings: Settings,
    record_id: str,
    since_ms: int | None = None,
    hubs: Mapping[str, Hub] | None = None,
) -> dict[str, Any]:
    """Both records, per-field provenance and the history of the link of `record_id`."""
    if hubs is None:
        from streams.engine.replay import load_link_table

        hubs = load_link_table(settings).hubs
    hub = find_hub(hubs, record_id)
    since = since_ms if since_ms is not None else int(time.time() * 1000) - 7 * DAY_MS
    events = history(settings, hub, since)
    links = [
        {
            "flow": link.flow,
            "state": link.state,
            "custompms_id": link.pms_id,
            "custompms_entity": FLOWS[link.flow].pms_resource if link.flow in FLOWS else None,
            "born_in": link.born_in,
            "linked_since_ms": link.since,
            "custompms_known": link.known,
            "custompms_version": link.version,
        }
        for link in hub.links.values()
    ]
    return {
        "asked": record_id,
        "salesforce": {
            "id": hub.sf_id,
            "object": hub.sf_object,
            "deleted": hub.deleted,
            "known": hub.sf_known,
            "modstamp_ms": hub.sf_modstamp,
            "created_by_sync": hub.born_by_sync,
        },
        "links": links,
        "provenance": provenance(hub, events),
        "since_ms": since,
        "history": [e.as_dict() for e in events],
        "counts": {
            kind: sum(1 for e in events if e.kind == kind)
            for kind in ("change", "write", "result", "dead_letter")
        },
    }


__all__ = ["NoSuchLink", "link_story", "partition_of", "who"]
