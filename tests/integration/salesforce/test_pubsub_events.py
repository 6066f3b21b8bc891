"""Task writes over REST (the product's client) come out as change events over Subscribe."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date

import pytest

from connectors.salesforce.pubsub import ChangeEvent, ReplayStart
from emulators.salesforce.schema import FieldDef
from tests.integration.salesforce.pubsub_support import TOPIC, RunningPubSub, take

pytestmark = pytest.mark.integration


async def events(sfps: RunningPubSub, n: int) -> list[ChangeEvent]:
    """The first `n` change events of the topic, through the product's client."""
    async with (
        sfps.client() as client,
        client.subscribe(TOPIC, ReplayStart.earliest()) as subscription,
    ):
        items = await take((i async for i in subscription if isinstance(i, ChangeEvent)), n)
    return items


async def test_created_task_arrives_with_every_field_and_the_writers_client_name(
    sfps: RunningPubSub,
) -> None:
    async with sfps.rest("sync-test") as rest:
        task_id = await rest.create("Task", {"Subject": "Call", "ActivityDate": "2026-03-04"})
        me = await rest.identity()
    (event,) = await events(sfps, 1)
    header = event.header
    assert header.entity_name == "Task" and header.record_ids == (task_id,)
    assert header.change_type == "CREATE"
    assert header.change_origin == "com/salesforce/api/rest/60.0;client=sync-test"
    assert header.client_name == "sync-test"
    assert header.commit_user == me.user_id
    assert header.sequence_number == 1 and header.transaction_key
    assert event.changed_fields == () and event.nulled_fields == ()
    assert event.values["Subject"] == "Call"
    assert event.values["ActivityDate"] == date(2026, 3, 4)
    assert event.values["Status"] == "Not Started"  # defaults are part of the created record
    assert event.values["CreatedDate"] == header.commit_timestamp
    assert "Id" not in event.values and "SystemModstamp" not in event.values


async def test_update_sends_only_changed_fields_with_a_bitmap_and_nulled_fields(
    sfps: RunningPubSub,
) -> None:
    async with sfps.rest() as rest:
        task_id = await rest.create("Task", {"Subject": "Call", "Description": "notes"})
        await rest.update("Task", task_id, {"Status": "Completed", "Description": None})
    create, update = await events(sfps, 2)
    assert update.header.change_type == "UPDATE"
    assert update.header.commit_number > create.header.commit_number
    assert update.header.transaction_key != create.header.transaction_key
    assert set(update.changed_fields) == {
        "LastModifiedDate",
        "Status",
        "Description",
        "IsClosed",
        "CompletedDateTime",
    }
    assert update.nulled_fields == ("Description",)
    assert update.values["Status"] == "Completed" and update.values["IsClosed"] is True
    # Unchanged fields arrive as null, so they are not among the values.
    assert "Subject" not in update.values and "Description" not in update.values


async def test_one_collections_call_is_one_transaction_and_identical_deletes_merge(
    sfps: RunningPubSub,
) -> None:
    async with sfps.rest() as rest:
        results = await rest.collections_create(
            [{"Subject": f"T{n}", "Priority": "Low"} for n in range(3)], sobject="Task"
        )
        ids = [r.id for r in results if r.id]
        await rest.collections_delete(ids)
    created = await events(sfps, 4)
    creates, delete = created[:3], created[3]
    assert [e.header.record_ids for e in creates] == [(i,) for i in ids]
    assert len({e.header.transaction_key for e in creates}) == 1
    assert [e.header.sequence_number for e in creates] == [1, 2, 3]
    # One DELETE event lists every record deleted the same way in the transaction.
    assert delete.header.change_type == "DELETE" and set(delete.header.record_ids) == set(ids)
    assert delete.values == {}


async def test_upsert_by_external_id_publishes_create_then_update(sfps: RunningPubSub) -> None:
    async with sfps.rest() as rest:
        await rest.upsert("Task", "Custompms_Id__c", "P-1", {"Subject": "first"})
        await rest.upsert("Task", "Custompms_Id__c", "P-1", {"Subject": "second"})
    create, update = await events(sfps, 2)
    assert create.header.change_type == "CREATE" and create.values["Custompms_Id__c"] == "P-1"
    assert update.header.change_type == "UPDATE" and update.values["Subject"] == "second"
    assert "Subject" in update.changed_fields


async def test_writes_without_a_client_name_have_the_bare_rest_origin(sfps: RunningPubSub) -> None:
    token = sfps.sf.token()
    response = sfps.sf.api("POST", "/sobjects/Task", token, json={"Subject": "raw"})
    assert response.status_code == 201
    (event,) = await events(sfps, 1)
    assert event.header.change_origin == "com/salesforce/api/rest/60.0"
    assert event.header.client_name is None


async def test_other_objects_publish_nothing_on_the_task_topic(sfps: RunningPubSub) -> None:
    sfps.sf.bulk("Division", [{"Name": "North"}])
    async with sfps.rest() as rest:
        await rest.create("Task", {"Subject": "only me"})
    (event,) = await events(sfps, 1)
    assert event.values["Subject"] == "only me"
    assert sfps.sf.admin("GET", "/pubsub")["tip"] == 1


async def test_stats_count_published_and_delivered_events_apart_from_rest_calls(
    sfps: RunningPubSub,
) -> None:
    async with sfps.rest() as rest:
        await rest.create("Task", {"Subject": "counted"})
    sfps.sf.admin("DELETE", "/stats")
    await events(sfps, 1)
    stats = sfps.sf.admin("GET", "/stats")
    assert stats["counters"]["pubsub.rpc.Subscribe"] == 1
    assert stats["counters"]["pubsub.rpc.GetSchema"] == 1
    assert stats["counters"]["pubsub.events.delivered"] == 1
    assert not any(route.startswith("GET /services/data") for route in stats["requests"])
    info = sfps.sf.admin("GET", "/pubsub")
    assert info["delivered_24h"] == 1 and info["delivery_limit"] == 50_000


async def test_custom_fields_declared_in_the_emulator_are_part_of_the_change_event(
    start_sfps: Callable[..., AbstractContextManager[RunningPubSub]],
) -> None:
    region = FieldDef("Region__c", "string", "Region", length=40, custom=True)
    with start_sfps(custom_fields=(("Task", region),)) as sfps:
        async with sfps.rest() as rest:
            task_id = await rest.create("Task", {"Subject": "x", "Region__c": "EMEA"})
            await rest.update("Task", task_id, {"Region__c": "APAC"})
        create, update = await events(sfps, 2)
        async with sfps.client() as client:
            schema = await client.get_schema(create.schema_id)
    assert create.values["Region__c"] == "EMEA"
    assert update.values["Region__c"] == "APAC" and "Region__c" in update.changed_fields
    assert schema.fields[-1].name == "Region__c"
    assert '"doc":"Data:Text:00N' in schema.schema_json
