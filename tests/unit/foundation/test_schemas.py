"""Every Avro schema loads with fastavro and round-trips realistic records."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastavro import schemaless_reader, schemaless_writer

from foundation.kafka import topics
from foundation.kafka.schemas import all_schema_names, parsed, schema_for_topic, schema_str
from sfpms.registry.compat import parse as avro_parse

NOW = datetime(2026, 11, 25, 23, 8, 24, 123000, tzinfo=UTC)

SOURCE: dict[str, Any] = {
    "system": "salesforce",
    "entity": "Task",
    "id": "00T000000000001AAA",
    "version": None,
    "modstamp": NOW,
    "origin": "person",
    "actor": "005000000000001AAA",
    "commit_ts": NOW,
    "seq": None,
    "snapshot": False,
}

SF_TASK: dict[str, Any] = {
    "Id": "00T000000000001AAA",
    "Subject": "Call Ünïcødé customer 📞",
    "Status": "Deferred",
    "Priority": "High",
    "ActivityDate": date(2026, 12, 1),
    "Description": "x" * 1000,
    "OwnerId": "005000000000001AAA",
    "IsClosed": False,
    "CompletedDateTime": None,
    "SystemModstamp": NOW,
}

PMS_CUSTOMER: dict[str, Any] = {
    "id": "cus_000001",
    "version": 3,
    "name": "Acme",
    "kind": "division",
    "active": True,
    "address": {
        "street": "1 Main St",
        "city": "Oslo",
        "state": None,
        "postal_code": "0150",
        "country": None,
    },
    "updated_at": NOW,
}

SAMPLES: dict[str, dict[str, Any]] = {
    "sfpms.salesforce.TaskChange": {
        "op": "u",
        "before": None,
        "after": SF_TASK,
        "source": SOURCE,
        "ts_ms": NOW,
    },
    "sfpms.custompms.CustomerChange": {
        "op": "d",
        "before": PMS_CUSTOMER,
        "after": None,
        "source": {**SOURCE, "system": "custompms", "entity": "customer", "seq": 42},
        "ts_ms": NOW,
    },
    "sfpms.WriteCommand": {
        "command_id": "c-1",
        "link_key": "00T000000000001AAA",
        "system": "custompms",
        "ops": [
            {
                "flow": "task_project",
                "entity": "project",
                "action": "create",
                "idempotency_key": "k-1",
                "fields": {"name": "Call", "active": True, "due_date": "2026-12-01", "n": 3},
                "match": {},
                "refs": {},
            },
            {
                "flow": "task_task",
                "entity": "task",
                "action": "create",
                "idempotency_key": "k-2",
                "fields": {"title": "Call", "x": None},
                "refs": {"project_id": 0},
            },
        ],
        "cause": SOURCE,
        "issued_at": NOW,
    },
    "sfpms.WriteResult": {
        "command_id": "c-1",
        "link_key": "00T000000000001AAA",
        "system": "custompms",
        "outcomes": [
            {
                "flow": "task_project",
                "entity": "project",
                "action": "create",
                "outcome": "ok",
                "target_id": "prj_000001",
                "created": True,
                "version": 1,
                "written": {"name": "Call"},
                "record": {"name": "Call", "address.city": None, "version": 1},
            }
        ],
        "acked_at": NOW,
    },
    "sfpms.DeadLetter": {
        "stage": "engine",
        "topic": "salesforce.task.changes",
        "partition": 0,
        "offset": 7,
        "key": b"00T",
        "value": b"\x00\x00\x00\x00\x01garbage",
        "error_class": "ConversionError",
        "reason": "Subject is 2550 characters, limit 255",
        "flow": "task_project",
        "record": "00T000000000001AAA",
        "field": "Subject",
        "attempts": 1,
        "failed_at": NOW,
    },
}


def _round_trip(name: str, record: dict[str, Any]) -> dict[str, Any]:
    buf = io.BytesIO()
    schemaless_writer(buf, parsed(name), record)
    buf.seek(0)
    result = schemaless_reader(buf, parsed(name), parsed(name))
    assert isinstance(result, dict)
    return result


@pytest.mark.parametrize("name", all_schema_names())
def test_every_schema_loads_with_fastavro_and_apache_avro(name: str) -> None:
    assert parsed(name) is not None
    assert avro_parse(schema_str(name)) is not None


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_records_round_trip_unchanged(name: str) -> None:
    result = _round_trip(name, SAMPLES[name])
    for key, value in SAMPLES[name].items():
        if isinstance(value, dict) and key in ("after", "before"):
            for field, inner in value.items():
                assert result[key][field] == inner, field
        elif isinstance(value, list):  # records inside: the given fields survive
            assert len(result[key]) == len(value), key
            for got, sent in zip(result[key], value, strict=True):
                assert {k: got[k] for k in sent} == sent, key
        elif key not in ("source", "cause", "before", "after"):
            assert result[key] == value, key


def test_logical_types_survive_as_python_dates_and_aware_datetimes() -> None:
    after = _round_trip("sfpms.salesforce.TaskChange", SAMPLES["sfpms.salesforce.TaskChange"])[
        "after"
    ]
    assert after["ActivityDate"] == date(2026, 12, 1)
    assert after["SystemModstamp"] == NOW
    assert after["SystemModstamp"].tzinfo is not None


def test_every_avro_topic_of_the_catalogue_has_a_schema() -> None:
    """The inbox forwards other topics' records as they are; changelogs hold table JSON."""
    for spec in topics.catalogue():
        if spec.name == topics.SCHEMAS or spec.name.endswith("-changelog"):
            continue
        assert schema_for_topic(spec.name) in all_schema_names()


def test_a_record_missing_a_required_field_is_refused() -> None:
    broken = dict(SAMPLES["sfpms.WriteCommand"])
    del broken["link_key"]
    with pytest.raises((ValueError, KeyError, TypeError)):
        _round_trip("sfpms.WriteCommand", broken)
