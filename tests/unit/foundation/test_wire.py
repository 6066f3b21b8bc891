"""The wire records match their Avro schemas field for field and survive a round trip."""

from __future__ import annotations

import io
from dataclasses import fields
from typing import Any

import pytest
from fastavro import schemaless_reader, schemaless_writer

from foundation.kafka.schemas import parsed, schema_dict
from foundation.wire import (
    ChangeEnvelope,
    LinkEvent,
    OpOutcome,
    Source,
    WriteCommand,
    WriteOp,
    WriteResult,
)

AT = 1_796_100_000_123
SOURCE = Source("custompms", "project", "prj_000001", 3, AT, "person", "alice", AT, 41)
OP = WriteOp(
    "task_task",
    "task",
    "create",
    idempotency_key="task_task:00T1:create:0",
    fields={"title": "Call", "due_date": "2026-12-01", "n": 2, "done": False, "x": None},
    refs={"project_id": 0},
)
OUTCOME = OpOutcome(
    "task_project",
    "project",
    "update",
    "conflict",
    "prj_000001",
    version=4,
    written={"status": "active"},
    record={"name": "P", "address.city": "Oslo", "version": 4},
    target_modstamp=AT,
    error="412 version_mismatch",
)

RECORDS: dict[str, Any] = {
    "sfpms.Source": SOURCE,
    "sfpms.custompms.ProjectChange": ChangeEnvelope(
        "u",
        None,
        {
            "id": "prj_000001",
            "version": 3,
            "name": "P",
            **dict.fromkeys(("description", "status", "priority", "start_date", "due_date"), None),
            **dict.fromkeys(("customer_id", "owner", "created_at", "updated_at"), None),
        },
        SOURCE,
        AT,
    ),
    "sfpms.WriteOp": OP,
    "sfpms.WriteCommand": WriteCommand("c1", "00T1", "custompms", (OP, OP), AT, SOURCE),
    "sfpms.OpOutcome": OUTCOME,
    "sfpms.WriteResult": WriteResult("c1", "00T1", "custompms", (OUTCOME,), AT, SOURCE),
    "sfpms.LinkEvent": LinkEvent("prj_1", "project", "00T1", "task_project", "refused", AT, "x"),
}


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_a_record_has_exactly_the_fields_of_its_schema(name: str) -> None:
    record = RECORDS[name]
    schema_fields = {f["name"] for f in schema_dict(name)["fields"]}
    assert set(record.to_avro()) == schema_fields
    assert {f.name for f in fields(record)} == schema_fields


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_a_record_survives_avro_and_back(name: str) -> None:
    record = RECORDS[name]
    buffer = io.BytesIO()
    schemaless_writer(buffer, parsed(name), record.to_avro())
    buffer.seek(0)
    decoded = schemaless_reader(buffer, parsed(name), parsed(name))
    assert type(record).from_avro(decoded) == record


def test_a_result_belongs_to_the_hub_its_upsert_made() -> None:
    upsert = OpOutcome("division_customer", "Division", "upsert", "ok", "02d1")
    failed = OpOutcome("division_customer", "Division", "upsert", "failed")
    assert WriteResult("c", "pms:cus_1", "salesforce", (upsert,), AT).hub_key == "02d1"
    assert WriteResult("c", "pms:cus_1", "salesforce", (failed,), AT).hub_key == "pms:cus_1"
    assert WriteResult("c", "00T1", "custompms", (OUTCOME,), AT).hub_key == "00T1"
    assert WriteResult("c", "pms:cus_1", "salesforce", (failed,), AT).external_id == "cus_1"
