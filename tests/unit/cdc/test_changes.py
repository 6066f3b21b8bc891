"""Op and origin decisions and the envelopes built from API records and feed entries."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

from connectors.cdc.changes import (
    custompms_op,
    custompms_origin,
    dead_letter,
    feed_emission,
    polled_emission,
    raw_bytes,
    salesforce_emission,
    salesforce_op,
    salesforce_origin,
)
from connectors.cdc.convert import EnvelopeError
from connectors.custompms.types import FeedEntry
from foundation.kafka import topics as t
from foundation.kafka.serde import TopicCodec
from foundation.settings import Settings
from foundation.wire import ChangeEnvelope
from streams.core.envelopes import change_from_envelope

T0 = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
SYNC_USER = "005000000000001AAA"
PERSON = "005000000000002AAA"


def sf_task(**fields: Any) -> dict[str, Any]:
    return {
        "attributes": {"type": "Task"},
        "Id": "00T000000000001AAA",
        "Subject": "Call",
        "IsDeleted": False,
        "CreatedDate": "2026-11-25T23:00:00.000+0000",
        "SystemModstamp": "2026-11-25T23:05:00.000+0000",
        "LastModifiedById": PERSON,
        **fields,
    }


def feed_change(op: str = "update", actor: str = "alice", **fields: Any) -> FeedEntry:
    record = {
        "id": "prj_000001",
        "version": 2,
        "created_at": "2026-11-25T23:00:00.000Z",
        "updated_at": "2026-11-25T23:05:00.000Z",
        "deleted_at": None,
        "name": "Launch",
        "start_date": "2026-12-01",
        **fields,
    }
    return FeedEntry(
        seq=7,
        resource="projects",
        id="prj_000001",
        op=op,  # type: ignore[arg-type]
        version=3 if op == "delete" else 2,
        at="2026-11-25T23:06:00.000Z" if op == "delete" else "2026-11-25T23:05:00.000Z",
        actor=actor,
        record=record,
    )


@pytest.mark.parametrize(
    ("record", "covered", "op"),
    [
        ({"IsDeleted": True, "CreatedDate": T0, "SystemModstamp": T0}, None, "d"),
        ({"CreatedDate": T0, "SystemModstamp": T0}, T0 + timedelta(hours=1), "c"),
        ({"CreatedDate": T0, "SystemModstamp": T0 + timedelta(seconds=5)}, None, "c"),
        (
            {"CreatedDate": T0, "SystemModstamp": T0 + timedelta(seconds=5)},
            T0 - timedelta(seconds=1),
            "c",
        ),
        ({"CreatedDate": T0, "SystemModstamp": T0 + timedelta(seconds=5)}, T0, "u"),
        ({"CreatedDate": None, "SystemModstamp": T0}, None, "u"),
    ],
)
def test_salesforce_op_is_decided_from_deletion_and_creation_time(
    record: dict[str, Any], covered: datetime | None, op: str
) -> None:
    assert salesforce_op(record, covered) == op


@pytest.mark.parametrize(
    ("last_modified_by", "origin"),
    [
        (SYNC_USER, "sync"),
        (SYNC_USER[:15], "sync"),
        (PERSON, "person"),
        (None, "unknown"),
    ],
)
def test_salesforce_origin_compares_the_last_modifier_with_the_integration_user(
    last_modified_by: str | None, origin: str
) -> None:
    assert salesforce_origin(last_modified_by, SYNC_USER) == origin


@pytest.mark.parametrize(
    ("actor", "origin"),
    [("sfpms", "sync"), ("alice", "person"), ("seed", "person"), (None, "unknown")],
)
def test_custompms_origin_compares_the_feed_actor_with_the_client_name(
    actor: str | None, origin: str
) -> None:
    assert custompms_origin(actor, "sfpms") == origin


def test_salesforce_update_envelope_carries_after_and_the_source_block() -> None:
    emission = salesforce_emission(
        "Task", sf_task(), sync_user_id=SYNC_USER, covered=T0, snapshot=False, now=NOW
    )
    assert (emission.topic, emission.key, emission.op) == (
        "salesforce.task.changes",
        b"00T000000000001AAA",
        "u",
    )
    value = emission.value
    assert value["before"] is None and value["after"]["Subject"] == "Call"
    assert value["ts_ms"] == NOW
    assert value["source"] == {
        "system": "salesforce",
        "entity": "Task",
        "id": "00T000000000001AAA",
        "version": None,
        "modstamp": T0 + timedelta(minutes=5),
        "origin": "person",
        "actor": PERSON,
        "commit_ts": T0 + timedelta(minutes=5),
        "seq": None,
        "snapshot": False,
        "scope": None,
        "onboarding": None,
    }


def test_salesforce_delete_envelope_puts_the_deleted_record_in_before() -> None:
    emission = salesforce_emission(
        "Task", sf_task(IsDeleted=True), sync_user_id=SYNC_USER, covered=T0, snapshot=False, now=NOW
    )
    assert emission.op == "d"
    assert emission.value["after"] is None and emission.value["before"]["IsDeleted"] is True


def test_salesforce_snapshot_envelope_is_a_read() -> None:
    emission = salesforce_emission(
        "Division",
        {"Id": "02d000000000001AAA", "Name": "Global", "SystemModstamp": "2026-11-25T23:00:00Z"},
        sync_user_id=SYNC_USER,
        covered=None,
        snapshot=True,
        now=NOW,
    )
    assert emission.topic == "salesforce.division.changes"
    assert (emission.op, emission.value["source"]["snapshot"]) == ("r", True)
    assert emission.value["source"]["origin"] == "unknown"


@pytest.mark.parametrize(("op", "expected"), [("create", "c"), ("update", "u"), ("delete", "d")])
def test_feed_entries_keep_their_op_seq_version_and_actor(op: str, expected: str) -> None:
    emission = feed_emission(feed_change(op), client_name="sfpms", now=NOW)
    value = emission.value
    assert emission.op == expected and emission.topic == "custompms.project.changes"
    assert value["source"]["seq"] == 7 and value["source"]["entity"] == "project"
    assert value["source"]["actor"] == "alice" and value["source"]["origin"] == "person"
    if expected == "d":
        assert value["after"] is None and value["before"]["version"] == 2
        assert value["source"]["version"] == 3
        assert value["source"]["modstamp"] == datetime(2026, 11, 25, 23, 6, tzinfo=UTC)
    else:
        assert value["before"] is None and value["after"]["name"] == "Launch"


def test_a_feed_entry_with_an_unreadable_time_is_a_conversion_error() -> None:
    broken = replace(feed_change(), at="yesterday")
    with pytest.raises(EnvelopeError) as caught:
        feed_emission(broken, client_name="sfpms", now=NOW)
    assert caught.value.field == "at"


@pytest.mark.parametrize(
    ("fields", "covered", "op"),
    [
        ({"deleted_at": "2026-11-25T23:06:00.000Z", "version": 3}, T0, "d"),
        ({"version": 1}, T0 + timedelta(hours=1), "c"),
        ({"version": 4}, None, "c"),
        ({"version": 4}, T0 - timedelta(seconds=1), "c"),
        ({"version": 4}, T0, "u"),
    ],
)
def test_polled_custompms_op_is_decided_from_tombstone_version_and_creation(
    fields: dict[str, Any], covered: datetime | None, op: str
) -> None:
    raw = {**feed_change().record, **fields}
    emission = polled_emission("projects", raw, covered=covered, snapshot=False, now=NOW)
    assert emission.op == op
    assert custompms_op(emission.value["before"] or emission.value["after"], raw, covered) == op
    assert emission.value["source"]["origin"] == "unknown"


def test_dead_letter_names_the_record_its_change_topic_and_keeps_the_raw_bytes() -> None:
    raw = {"Id": "02d1", "SortOrder": 2**40}
    error = EnvelopeError(
        "cannot convert", system="salesforce", entity="Division", record="02d1", field="SortOrder"
    )
    letter = dead_letter(
        error, key="02d1", value=raw_bytes(raw), now=NOW, system="salesforce", entity="Division"
    ).to_record()
    assert (letter["stage"], letter["topic"], letter["record"], letter["field"]) == (
        "cdc",
        "salesforce.division.changes",
        "02d1",
        "SortOrder",
    )
    assert letter["flow"] == "cdc salesforce/Division"
    assert letter["error_class"] == "EnvelopeError"
    assert json.loads(letter["value"]) == raw


def test_raw_bytes_of_a_feed_entry_is_its_json() -> None:
    assert json.loads(raw_bytes(feed_change()))["seq"] == 7


# -- the envelopes on the wire ------------------------------------------------------------


@pytest.fixture
def registry() -> SchemaRegistryClient:
    return SchemaRegistryClient.new_client({"url": "mock://cdc-unit"})


def test_envelopes_round_trip_through_the_registered_schemas_and_read_as_engine_changes(
    registry: SchemaRegistryClient,
) -> None:
    settings = Settings(topic_prefix="u.")
    emissions = [
        salesforce_emission(
            "Task", sf_task(), sync_user_id=SYNC_USER, covered=T0, snapshot=False, now=NOW
        ),
        feed_emission(feed_change("delete", actor="sfpms"), client_name="sfpms", now=NOW),
    ]
    for emission in emissions:
        codec = TopicCodec(settings, registry, emission.topic)
        decoded = codec.decode(codec.encode(emission.value))
        change = change_from_envelope(ChangeEnvelope.from_avro(decoded))
        assert change.id == emission.key.decode()
        assert change.op == emission.op
        assert change.ts == int(emission.value["source"]["modstamp"].timestamp() * 1000)
    deleted = change_from_envelope(
        ChangeEnvelope.from_avro(
            TopicCodec(settings, registry, emissions[1].topic).decode(
                TopicCodec(settings, registry, emissions[1].topic).encode(emissions[1].value)
            )
        )
    )
    assert deleted.origin == "sync" and deleted.version == 3
    assert deleted.record is not None and deleted.record["name"] == "Launch"


def test_dead_letters_encode_with_the_dead_letter_schema(registry: SchemaRegistryClient) -> None:
    codec = TopicCodec(Settings(), registry, t.DEADLETTER)
    letter = dead_letter(
        ValueError("boom"), key=None, value=b"{}", now=NOW, system="custompms", entity="task"
    )
    decoded = codec.decode(codec.encode(letter.to_record()))
    assert decoded["reason"].startswith("cannot publish custompms task")
    assert decoded["flow"] == "cdc custompms/task"
