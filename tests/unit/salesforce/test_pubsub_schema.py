"""The emulator's TaskChangeEvent Avro schema, built from its own Task definition."""

from __future__ import annotations

import dataclasses
import json

import fastavro

from emulators.salesforce.pubsub.avro_schema import CHANGE_TYPES, change_event_schema
from emulators.salesforce.schema import TASK, FieldDef, ObjectDef


def test_header_comes_first_with_salesforces_fields_in_order() -> None:
    schema = json.loads(change_event_schema(TASK).schema_json)
    assert schema["name"] == "TaskChangeEvent" and schema["namespace"] == "com.sforce.eventbus"
    header = schema["fields"][0]
    assert header["name"] == "ChangeEventHeader"
    assert header["type"]["namespace"] == "com.salesforce.eventbus"
    assert [f["name"] for f in header["type"]["fields"]] == [
        "entityName",
        "recordIds",
        "changeType",
        "changeOrigin",
        "transactionKey",
        "sequenceNumber",
        "commitTimestamp",
        "commitNumber",
        "commitUser",
        "nulledFields",
        "diffFields",
        "changedFields",
    ]
    change_type = header["type"]["fields"][2]["type"]
    assert change_type["symbols"][:9] == [
        "CREATE",
        "UPDATE",
        "DELETE",
        "UNDELETE",
        "GAP_CREATE",
        "GAP_UPDATE",
        "GAP_DELETE",
        "GAP_UNDELETE",
        "GAP_OVERFLOW",
    ]
    assert tuple(change_type["symbols"]) == CHANGE_TYPES


def test_record_fields_are_nullable_and_leave_out_id_isdeleted_and_systemmodstamp() -> None:
    schema = json.loads(change_event_schema(TASK).schema_json)
    fields = {f["name"]: f for f in schema["fields"][1:]}
    assert not {"Id", "IsDeleted", "SystemModstamp"} & set(fields)
    assert all(f["type"][0] == "null" and f["default"] is None for f in fields.values())
    assert fields["ActivityDate"]["type"] == ["null", "long"]
    assert fields["ActivityDate"]["doc"] == "Data:DateOnly"
    assert fields["CompletedDateTime"]["doc"] == "Data:DateTime"
    assert fields["CreatedDate"]["doc"] == "CreatedDate:DateTime"
    assert fields["OwnerId"]["doc"] == "ForeignKey:EntityId"
    assert fields["IsClosed"]["type"] == ["null", "boolean"]
    assert fields["Custompms_Id__c"]["doc"].startswith("Data:Text:00N")


def test_positions_count_from_one_after_the_header_in_task_field_order() -> None:
    built = change_event_schema(TASK)
    expected = [f.name for f in TASK.fields if f.name not in ("Id", "IsDeleted", "SystemModstamp")]
    assert [f.name for f in built.fields] == expected
    assert [f.position for f in built.fields] == list(range(1, len(expected) + 1))


def test_a_custom_field_added_to_task_appears_and_changes_the_schema_id() -> None:
    extra = FieldDef("Budget__c", "currency", "Budget", custom=True)
    task = dataclasses.replace(TASK, fields=(*TASK.fields, extra), _by_name={})
    base, grown = change_event_schema(TASK), change_event_schema(task)
    assert grown.field("Budget__c") is not None
    assert grown.field("Budget__c").position == len(base.fields) + 1  # type: ignore[union-attr]
    schema = json.loads(grown.schema_json)
    assert schema["fields"][-1]["type"] == ["null", "double"]
    assert grown.schema_id != base.schema_id


def test_schema_id_is_a_stable_22_character_fingerprint() -> None:
    first, second = change_event_schema(TASK), change_event_schema(TASK)
    assert first.schema_id == second.schema_id
    assert len(first.schema_id) == 22 and "=" not in first.schema_id


def test_a_custom_object_gets_salesforces_custom_change_event_name() -> None:
    thing = ObjectDef("Thing__c", "Thing", "Things", "a01", (FieldDef("Name", "string", "Name"),))
    built = change_event_schema(thing)
    assert built.topic == "/data/Thing__ChangeEvent"
    fastavro.parse_schema(json.loads(built.schema_json))
