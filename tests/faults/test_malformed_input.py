"""Malformed records on the topics do not stop the pipeline: each becomes a dead letter
naming where it came from (stage, topic, partition, offset, record, and flow and field where
known) and everything after it keeps syncing.

Kinds produced: a Confluent frame with an unknown schema id, a valid envelope cut short, an
empty value, a value just under the 1 MB message limit (its dead letter keeps a bounded
copy), a valid frame with a garbage body, a valid Avro record of another topic's schema,
a tombstone (not an error: nothing to do), and valid envelopes whose values
cannot be mapped (a name too long for the other side).
"""

from __future__ import annotations

import datetime as dt
import os
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Producer

from foundation.deadletters import MAX_VALUE_BYTES
from foundation.kafka import topics as t
from foundation.kafka.serde import TopicCodec, registry_client
from foundation.settings import Settings
from sfpms.deadletters import read_dead_letters
from tests.faults.stack import FaultStack, fault_stack
from tests.support.live import eventually

pytestmark = [pytest.mark.faults, pytest.mark.integration]

SF_TOPIC = t.changes_topic("salesforce", "task")
PMS_TOPIC = t.changes_topic("custompms", "project")
WRITES_TOPIC = t.writes_topic("custompms")
#: Just under the broker's and the producers' 1 MB message limit: its dead letter keeps a
#: bounded copy (a whole copy plus the dead letter's own fields would be over the limit).
HUGE = 999_000


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    with fault_stack(kafka_bootstrap, tmp_path_factory.mktemp("malformed")) as running:
        yield running


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _sf_envelope(record_id: str, subject: str) -> dict[str, Any]:
    return {
        "op": "c",
        "before": None,
        "after": {"Id": record_id, "Subject": subject, "Status": "Not Started", "Priority": "Low"},
        "source": {
            "system": "salesforce",
            "entity": "Task",
            "id": record_id,
            "modstamp": _now(),
            "origin": "person",
        },
        "ts_ms": _now(),
    }


def _pms_envelope(record_id: str, name: str) -> dict[str, Any]:
    return {
        "op": "c",
        "before": None,
        "after": {
            "id": record_id,
            "version": 1,
            "name": name,
            "status": "planned",
            "priority": "low",
        },
        "source": {
            "system": "custompms",
            "entity": "project",
            "id": record_id,
            "version": 1,
            "modstamp": _now(),
            "origin": "person",
            "seq": 1,
        },
        "ts_ms": _now(),
    }


def _malformed(settings: Settings, topic: str, valid: bytes) -> dict[str, bytes]:
    """Malformed values for `topic`, by kind; `valid` is a well-formed value of it."""
    other = TopicCodec(settings, registry_client(settings), t.ROUTES).encode(
        {
            "pms_id": "x",
            "pms_entity": "project",
            "link_key": "y",
            "flow": "task_project",
            "action": "linked",
            "at": _now(),
        }
    )
    return {
        "wrong-schema-id": b"\x00" + struct.pack(">I", 987_654) + valid[5:],
        "truncated": valid[: len(valid) // 2],
        "empty": b"",
        "huge": valid[:5] + os.urandom(HUGE),
        "garbage-body": valid[:5] + b"\xff\xfe garbage \x00\x01",
        "other-schema": other,
    }


def _produce(settings: Settings, records: list[tuple[str, bytes, bytes | None]]) -> None:
    producer = Producer(settings.producer_config())
    for topic, key, value in records:
        producer.produce(settings.topic(topic), key=key, value=value)
    assert producer.flush(30) == 0


def test_malformed_change_and_write_records_are_dead_lettered_and_syncing_goes_on(
    stack: FaultStack,
) -> None:
    settings = stack.live.settings
    client = registry_client(settings)
    sf_valid = TopicCodec(settings, client, SF_TOPIC).encode(
        _sf_envelope("00T000000000VALID", "ok")
    )
    pms_valid = TopicCodec(settings, client, PMS_TOPIC).encode(_pms_envelope("prj_valid", "ok"))
    records: list[tuple[str, bytes, bytes | None]] = []
    expected: dict[str, tuple[str, str]] = {}  # key -> (stage, topic)
    for prefix, topic, valid, stage in (
        ("sf", SF_TOPIC, sf_valid, "engine"),
        ("pms", PMS_TOPIC, pms_valid, "engine"),
        ("wr", WRITES_TOPIC, pms_valid, "sink"),
    ):
        for kind, value in _malformed(settings, topic, valid).items():
            key = f"bad-{prefix}-{kind}"
            records.append((topic, key.encode(), value))
            expected[key] = (stage, topic)
    records.append((SF_TOPIC, b"00T000000000TOMB", None))
    unmappable_sf = "00T00000000LONGAA"
    records.append(
        (
            SF_TOPIC,
            unmappable_sf.encode(),
            TopicCodec(settings, client, SF_TOPIC).encode(_sf_envelope(unmappable_sf, "S" * 300)),
        )
    )
    records.append(
        (
            PMS_TOPIC,
            b"prj_toolong",
            TopicCodec(settings, client, PMS_TOPIC).encode(_pms_envelope("prj_toolong", "N" * 300)),
        )
    )
    _produce(settings, records)
    sent = {key.decode(): value for _topic, key, value in records}

    sf, pms = stack.sf_person(), stack.pms_person()
    task = sf.create("Task", {"Subject": "After the garbage"})
    project = pms.create("projects", {"name": "Also after the garbage"})
    eventually(
        lambda: [r for r in pms.items("projects") if r["name"] == "After the garbage"],
        timeout=90,
        what="the Task made after the garbage reaches Custompms",
    )
    eventually(
        lambda: sf.query(f"SELECT Id FROM Task WHERE Custompms_Id__c = '{project}'"),  # noqa: S608
        timeout=90,
        what="the Project made after the garbage reaches Salesforce",
    )

    def letters() -> dict[str, dict[str, Any]] | None:
        found = {str(r.get("record")): r for _p, _o, r in read_dead_letters(settings)}
        wanted = {*expected, unmappable_sf, "prj_toolong"}
        return found if wanted <= set(found) else None

    found = eventually(letters, timeout=60, what="a dead letter for every malformed record")
    for key, (stage, topic) in expected.items():
        letter = found[key]
        assert (letter["stage"], letter["topic"]) == (stage, topic), (key, letter["reason"])
        assert letter["partition"] is not None and letter["offset"] is not None, key
        assert letter["key"] == key.encode(), key
        original = sent[key] or b""
        if len(original) > MAX_VALUE_BYTES:
            assert letter["truncated"] and letter["value_size"] == len(original), key
            assert letter["value"] == original[:MAX_VALUE_BYTES], key
        else:
            assert (letter["value"] or b"") == original, f"{key}: original bytes not kept"
        assert letter["error_class"] and letter["reason"], key
    for record, flow, field in (
        (unmappable_sf, "task_project", "Subject"),
        ("prj_toolong", "task_project", "name"),
    ):
        letter = found[record]
        assert (letter["stage"], letter["flow"], letter["field"]) == ("engine", flow, field)
        assert "255" in letter["reason"], letter["reason"]
    assert "00T000000000TOMB" not in found, "a tombstone is nothing to do, not an error"
    alive = [w.process.alive() for w in stack.live.workers] + [
        p.alive() for p in stack.live.processes.values()
    ]
    assert all(alive), stack.live.logs()
    assert task
