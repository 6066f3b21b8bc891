"""Interleavings the fault suite ran into, replayed deterministically on the pure core.

Each test drives tests/support/world.py (the real decision core; dictionaries for the
systems and per-key queues for the topics) through one ordering Kafka allows. Open bugs
were strict xfails until fixed (docs/faults.md, "Found"); they stay as regression tests.
"""

from __future__ import annotations

import pytest

from streams.core.rules import Rules
from streams.mapping.flows import FLOWS
from tests.support.world import World


@pytest.fixture
def world() -> World:
    return World(rules=Rules(FLOWS))


def _deliver_all(world: World, queue: str) -> None:
    for key in [k for k in world.pending() if k[0] == queue]:
        world.deliver(key)


def _linked_project(world: World) -> tuple[str, str]:
    project = world.pms_person_create("project", {"name": "P", "status": "planned"})
    world.drain()
    sf_id = next(k for k, v in world.sf.items() if v.get("Custompms_Id__c") == project)
    return project, sf_id


def test_salesforce_edit_survives_a_custompms_edit_of_another_field_made_meanwhile(
    world: World,
) -> None:
    project, sf_id = _linked_project(world)
    world.sf_person_edit(sf_id, {"Status": "In Progress"})
    world.pms_person_edit(project, {"priority": "high"})  # status there is still "planned"
    world.deliver(("sf-cdc", sf_id))  # the engine issues status=active to the Project ...
    _deliver_all(world, "pms-cdc")
    _deliver_all(world, "inbox")  # ... and sees the priority edit before that write lands
    world.drain()
    assert world.pms[project]["priority"] == "high"
    assert (world.sf[sf_id]["Status"], world.pms[project]["status"]) == ("In Progress", "active")


def test_custompms_edit_survives_a_salesforce_edit_of_another_field_made_meanwhile(
    world: World,
) -> None:
    project, sf_id = _linked_project(world)
    world.pms_person_edit(project, {"status": "active"})
    world.sf_person_edit(sf_id, {"Subject": "Renamed"})  # Status there is still Not Started
    _deliver_all(world, "pms-cdc")
    _deliver_all(world, "inbox")  # the engine issues Status=In Progress to Salesforce ...
    world.deliver(("sf-cdc", sf_id))  # ... and sees the rename before that write lands
    world.drain()
    assert world.sf[sf_id]["Subject"] == "Renamed"
    assert (world.pms[project]["status"], world.sf[sf_id]["Status"]) == ("active", "In Progress")


def test_salesforce_edit_made_while_a_sync_write_is_in_flight_is_not_lost(world: World) -> None:
    project, sf_id = _linked_project(world)
    world.pms_person_edit(project, {"status": "active"})
    _deliver_all(world, "pms-cdc")
    _deliver_all(world, "inbox")  # the engine issues Status=In Progress to Salesforce ...
    world.sf_person_edit(sf_id, {"Status": "Deferred"})  # ... a person edits there first ...
    _deliver_all(world, "writes")  # ... then the sync's write lands
    world.coalesce(("sf-cdc", sf_id))  # and one poll sees only the latest state
    world.drain()
    assert world.sf[sf_id]["Status"] == "Deferred"
    assert world.pms[project]["status"] == "on_hold"


def test_salesforce_task_deleted_while_its_custompms_task_is_created_leaves_no_orphan(
    world: World,
) -> None:
    sf_id = world.sf_person_create("Task", {"Subject": "Short-lived"})
    world.deliver(("sf-cdc", sf_id))  # Project create issued
    _deliver_all(world, "writes")
    _deliver_all(world, "acks")  # Project linked; the Custompms Task create is issued
    world.sf_person_delete(sf_id)
    world.deliver(("sf-cdc", sf_id))  # the delete arrives while that create is pending
    world.drain()
    tasks = [k for k, v in world.pms.items() if v["_type"] == "task" and k not in world.pms_deleted]
    projects = [v for v in world.pms.values() if v["_type"] == "project"]
    assert [p["status"] for p in projects] == ["cancelled"]
    assert tasks == [], "task_task deletes the Custompms Task when its Salesforce Task goes"


def test_customer_deleted_in_custompms_leaves_its_division_inactive(world: World) -> None:
    customer = world.pms_person_create("customer", {"name": "Zed", "active": True})
    world.drain()
    division = next(k for k, v in world.sf.items() if v.get("Custompms_Id__c") == customer)
    world.pms_person_delete(customer)
    world.drain()
    assert world.sf[division]["IsActive"] is False


@pytest.mark.parametrize("change_first", [True, False], ids=["change-first", "conflict-first"])
def test_a_skipped_salesforce_write_is_decided_again_and_keeps_both_edits(
    world: World, change_first: bool
) -> None:
    """Found with the race guard off (K002): the sink skipped a write because a person edited
    another field meanwhile; the person's change still carried the skipped field's old
    value, which then won and reverted the Custompms edit on both sides."""
    project, sf_id = _linked_project(world)
    world.pms_person_edit(project, {"status": "active"})
    _deliver_all(world, "pms-cdc")
    _deliver_all(world, "inbox")  # the engine issues Status=In Progress to Salesforce ...
    world.sf_person_edit(sf_id, {"Priority": "High"})  # ... a person edits another field
    if change_first:
        world.deliver(("sf-cdc", sf_id))  # that change reaches the engine before the result
    _deliver_all(world, "writes")  # the sink sees the record changed since: conflict
    world.drain()
    assert (world.sf[sf_id]["Status"], world.sf[sf_id]["Priority"]) == ("In Progress", "High")
    assert (world.pms[project]["status"], world.pms[project]["priority"]) == ("active", "high")


def _drain_except(world: World, held: str) -> None:
    for _ in range(1000):
        keys = [k for k in world.pending() if k[0] != held]
        if not keys:
            return
        world.deliver(keys[0])


def test_salesforce_twin_deleted_before_its_create_result_arrives_applies_the_delete_rule(
    world: World,
) -> None:
    """Found by the full fault suite (E003): a person deleted the Salesforce record the sync
    had just made for a Custompms record, and the delete reached the hub before the upsert's
    result; the link was then established as if nothing happened, and the Custompms record
    was never given the delete rule."""
    project = world.pms_person_create("project", {"name": "Gone soon", "status": "planned"})
    _drain_except(world, "acks")  # the upsert lands in Salesforce; its result waits
    sf_id = next(k for k, v in world.sf.items() if v.get("Custompms_Id__c") == project)
    world.sf_person_delete(sf_id)
    _drain_except(world, "acks")  # the delete reaches the hub first
    world.drain()
    assert world.pms[project]["status"] == "cancelled", "task_project: Salesforce delete cancels"
    link = world.hubs[sf_id].links["task_project"]
    assert link.state == "detached"


def test_a_customer_deleted_before_its_link_reaches_the_routing_side_still_deactivates(
    world: World,
) -> None:
    """Found by the broker-freeze test (Z013): the sync created the Customer of a Division
    and a person deleted it before the link event reached the routing agent. The sync's own
    create never reaches the engine (no echoes), so the delete was the first change of a
    record the routing table had never seen, and was dropped as "never linked"."""
    division = world.sf_person_create("Division", {"Name": "Zed", "IsActive": True})
    world.deliver(("sf-cdc", division))  # the Customer create is issued ...
    _deliver_all(world, "writes")
    _deliver_all(world, "acks")  # ... linked in the hub; its link event is on its way
    customer = next(k for k, v in world.pms.items() if v["_type"] == "customer")
    world.pms_person_delete(customer)
    world.deliver(("pms-cdc", customer))  # the delete reaches the routing side first
    world.drain()
    assert world.sf[division]["IsActive"] is False
