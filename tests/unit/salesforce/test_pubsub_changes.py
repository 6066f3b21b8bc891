"""Committed writes -> change event payloads (the emulator's pure event builder)."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from typing import Any

import fastavro
import pytest

from connectors.salesforce.pubsub.bitmap import decode_bitmap, schema_fields
from emulators.salesforce.pubsub.avro_schema import change_event_schema
from emulators.salesforce.pubsub.changes import (
    EMPTY_RECORD_ID,
    EventBody,
    Faults,
    Transaction,
    build_events,
    change_origin,
)
from emulators.salesforce.schema import DIVISION, TASK
from emulators.salesforce.store import Caller, CommittedChange

SCHEMA = change_event_schema(TASK)
FIELDS = schema_fields(json.loads(SCHEMA.schema_json))
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
T1 = datetime(2026, 5, 1, 12, 5, tzinfo=UTC)
TX = Transaction("tx-1", 42, 1_777_000_000_000, "005000000000001AAA", "origin")


def task(record_id: str, **values: Any) -> dict[str, Any]:
    base = {
        "Id": record_id,
        "CreatedDate": T0,
        "CreatedById": "005000000000001AAA",
        "LastModifiedDate": T0,
        "LastModifiedById": "005000000000001AAA",
        "SystemModstamp": T0,
        "IsDeleted": False,
        "Subject": "Call",
        "Status": "Not Started",
        "Priority": "Normal",
        "OwnerId": "005000000000001AAA",
    }
    return {**base, **values}


def created(record_id: str, **values: Any) -> CommittedChange:
    return CommittedChange(TASK, record_id, "create", None, task(record_id, **values))


def updated(record_id: str, before: dict[str, Any], **values: Any) -> CommittedChange:
    after = {**before, "LastModifiedDate": T1, "SystemModstamp": T1, **values}
    return CommittedChange(TASK, record_id, "update", before, after)


def avro_round_trip(body: EventBody) -> dict[str, Any]:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, SCHEMA.parsed, body.record())
    buffer.seek(0)
    record: dict[str, Any] = fastavro.schemaless_reader(buffer, SCHEMA.parsed, None)  # type: ignore[assignment]
    return record


def test_create_carries_every_field_and_epoch_millis_for_dates() -> None:
    (body,) = build_events(SCHEMA, [created("00T1", ActivityDate=date(2026, 5, 2))], TX, Faults())
    record = avro_round_trip(body)
    header = record["ChangeEventHeader"]
    assert header["changeType"] == "CREATE" and header["recordIds"] == ["00T1"]
    assert header["changedFields"] == [] and header["nulledFields"] == []
    assert header["transactionKey"] == "tx-1" and header["commitNumber"] == 42
    assert record["Subject"] == "Call" and record["Description"] is None
    assert record["ActivityDate"] == int(datetime(2026, 5, 2, tzinfo=UTC).timestamp() * 1000)
    assert record["CreatedDate"] == int(T0.timestamp() * 1000)


def test_update_sets_only_changed_fields_and_bitmaps_them() -> None:
    before = task("00T1", Description="notes")
    change = updated("00T1", before, Subject="Email", Description=None)
    (body,) = build_events(SCHEMA, [change], TX, Faults())
    record = avro_round_trip(body)
    header = record["ChangeEventHeader"]
    assert set(decode_bitmap(header["changedFields"], FIELDS)) == {
        "LastModifiedDate",
        "Subject",
        "Description",
    }
    assert decode_bitmap(header["nulledFields"], FIELDS) == ("Description",)
    assert record["Subject"] == "Email" and record["LastModifiedDate"] == int(T1.timestamp() * 1000)
    assert record["Status"] is None and record["CreatedDate"] is None  # unchanged: null


def test_delete_is_header_only() -> None:
    before = task("00T1")
    change = CommittedChange(TASK, "00T1", "delete", before, {**before, "IsDeleted": True})
    (body,) = build_events(SCHEMA, [change], TX, Faults())
    assert body.header["changeType"] == "DELETE"
    assert all(value is None for value in body.fields.values())


def test_identical_changes_in_one_transaction_merge_and_sequence_numbers_count_events() -> None:
    before = [task(f"00T{n}") for n in range(3)]
    changes = [
        updated("00T0", before[0], Status="Completed"),
        updated("00T1", before[1], Status="Completed"),
        updated("00T2", before[2], Status="Deferred"),
    ]
    bodies = build_events(SCHEMA, changes, TX, Faults())
    assert [b.header["recordIds"] for b in bodies] == [["00T0", "00T1"], ["00T2"]]
    assert [b.header["sequenceNumber"] for b in bodies] == [1, 2]


def test_gap_faults_are_consumed_per_record_and_gap_events_have_no_origin() -> None:
    faults = Faults(gap=2)
    changes = [created("00T1"), created("00T2"), created("00T3")]
    bodies = build_events(SCHEMA, changes, TX, faults)
    gap, full = bodies
    assert gap.header["changeType"] == "GAP_CREATE" and gap.header["recordIds"] == ["00T1", "00T2"]
    assert gap.header["changeOrigin"] == "" and gap.header["sequenceNumber"] == 1
    assert all(value is None for value in gap.fields.values())
    assert full.header["changeType"] == "CREATE" and full.header["changeOrigin"] == "origin"
    assert faults.gap == 0


def test_changes_past_the_overflow_threshold_become_one_overflow_event() -> None:
    changes = [created(f"00T{n}", Subject=f"s{n}") for n in range(5)]
    bodies = build_events(SCHEMA, changes, TX, Faults(threshold=3))
    assert [b.header["changeType"] for b in bodies] == ["CREATE"] * 3 + ["GAP_OVERFLOW"]
    assert bodies[-1].header["recordIds"] == [EMPTY_RECORD_ID]


def test_an_update_counts_each_changed_field_toward_the_overflow_threshold() -> None:
    before = task("00T1")
    change = updated("00T1", before, Subject="x", Status="Deferred")  # 3 with LastModifiedDate
    (body,) = build_events(SCHEMA, [change], TX, Faults(threshold=2))
    assert body.header["changeType"] == "GAP_OVERFLOW"


def test_identical_creates_merge_into_one_event_listing_every_record() -> None:
    (body,) = build_events(SCHEMA, [created("00T1"), created("00T2")], TX, Faults())
    assert body.header["changeType"] == "CREATE" and body.header["recordIds"] == ["00T1", "00T2"]


def test_other_entities_are_ignored_by_the_task_topic() -> None:
    division = CommittedChange(DIVISION, "02d1", "create", None, {"Id": "02d1", "Name": "N"})
    assert build_events(SCHEMA, [division], TX, Faults()) == []


@pytest.mark.parametrize(
    ("caller", "origin"),
    [
        (Caller("005", "sync", "58.0"), "com/salesforce/api/rest/58.0;client=sync"),
        (Caller("005", None, "60.0"), "com/salesforce/api/rest/60.0"),
        (Caller("005", "emulator-admin"), "com/salesforce/api/rest/60.0;client=emulator-admin"),
        (Caller("005"), ""),
    ],
)
def test_change_origin_follows_salesforces_format(caller: Caller, origin: str) -> None:
    assert change_origin(caller) == origin
