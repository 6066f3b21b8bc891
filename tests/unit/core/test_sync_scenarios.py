"""End-to-end decisions of the pure core through a simulated world (no Kafka, no HTTP)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from streams.core.rules import Rules
from streams.mapping.flows import FLOWS
from tests.support.world import World


@pytest.fixture
def world() -> World:
    return World(rules=Rules(FLOWS))


def linked_pms(world: World, sf_id: str, flow: str) -> dict[str, Any]:
    link = world.hubs[sf_id].linked(flow)
    assert link is not None and link.pms_id is not None, f"{sf_id} has no {flow} link"
    return world.pms[link.pms_id]


def test_task_created_in_salesforce_creates_project_and_task_once(world: World) -> None:
    sf_id = world.sf_person_create(
        "Task",
        {
            "Subject": "Call Acme",
            "Status": "In Progress",
            "Priority": "High",
            "ActivityDate": date(2026, 12, 1),
        },
    )
    world.drain()
    project = linked_pms(world, sf_id, "task_project")
    task = linked_pms(world, sf_id, "task_task")
    assert (project["name"], project["status"], project["priority"]) == (
        "Call Acme",
        "active",
        "high",
    )
    assert project["due_date"] == "2026-12-01"
    assert (task["title"], task["status"], task["project_id"]) == (
        "Call Acme",
        "in_progress",
        project["id"],
    )
    assert len(world.sync_created_pms) == 2
    assert world.sync_created_sf == []


def test_echo_of_the_syncs_own_write_causes_no_further_write(world: World) -> None:
    sf_id = world.sf_person_create("Task", {"Subject": "A"})
    world.drain()
    applied = world.writes_applied
    world.sf_person_edit(sf_id, {"Subject": "B"})
    world.drain()
    assert world.writes_applied == applied + 2  # Project name and Task title, nothing echoed
    assert linked_pms(world, sf_id, "task_project")["name"] == "B"


def test_project_edit_updates_salesforce_task_and_the_custompms_task(world: World) -> None:
    sf_id = world.sf_person_create("Task", {"Subject": "A"})
    world.drain()
    project = linked_pms(world, sf_id, "task_project")
    world.pms_person_edit(project["id"], {"status": "active", "name": "Renamed"})
    world.drain()
    assert world.sf[sf_id]["Status"] == "In Progress"
    assert world.sf[sf_id]["Subject"] == "Renamed"
    task = linked_pms(world, sf_id, "task_task")
    assert (task["status"], task["title"]) == ("in_progress", "Renamed")


def test_lossy_status_never_rewrites_its_source(world: World) -> None:
    sf_id = world.sf_person_create("Task", {"Subject": "A", "Status": "Deferred"})
    world.drain()
    assert linked_pms(world, sf_id, "task_project")["status"] == "on_hold"
    assert linked_pms(world, sf_id, "task_task")["status"] == "blocked"
    assert world.sf[sf_id]["Status"] == "Deferred"


def test_cancelled_project_sets_deferred_and_stays_cancelled(world: World) -> None:
    sf_id = world.sf_person_create("Task", {"Subject": "A"})
    world.drain()
    project = linked_pms(world, sf_id, "task_project")
    world.pms_person_edit(project["id"], {"status": "cancelled"})
    world.drain()
    assert world.sf[sf_id]["Status"] == "Deferred"
    assert world.pms[project["id"]]["status"] == "cancelled"


def test_custompms_task_creates_one_salesforce_task_and_no_project(world: World) -> None:
    project_id = world.pms_person_create("project", {"name": "P"})
    world.drain()
    task_id = world.pms_person_create("task", {"title": "T", "project_id": project_id})
    world.drain()
    tasks = [r for r in world.sf.values() if r.get("Custompms_Id__c") == task_id]
    assert len(tasks) == 1 and tasks[0]["Subject"] == "T"
    projects = [r for r in world.pms.values() if r["_type"] == "project"]
    assert [p["id"] for p in projects] == [project_id]  # no second project spawned


def test_customer_and_division_create_each_other(world: World) -> None:
    division = world.sf_person_create("Division", {"Name": "EMEA", "IsActive": True})
    customer = world.pms_person_create("customer", {"name": "Contoso", "active": True})
    world.drain()
    created = linked_pms(world, division, "division_customer")
    assert (created["name"], created["kind"], created["active"]) == ("EMEA", "division", True)
    twins = [r for r in world.sf.values() if r.get("Custompms_Id__c") == customer]
    assert len(twins) == 1 and twins[0]["Name"] == "Contoso"
    assert world.pms[customer]["kind"] == "division"


def test_onboarding_links_an_existing_customer_by_normalised_name(world: World) -> None:
    existing = world.pms_person_create(
        "customer", {"name": "Acme  Corp.", "kind": "organization", "active": True}
    )
    world.drain()
    org = world.sf_person_create("Organization", {"Name": "acme corp", "Phone": "+47 1"})
    world.drain()
    assert linked_pms(world, org, "organization_customer")["id"] == existing
    assert world.pms[existing]["phone"] == "+47 1"
    assert [r for r in world.pms.values() if r["_type"] == "customer"] == [world.pms[existing]]


def test_concurrent_edits_converge_to_the_later_one_with_provenance(world: World) -> None:
    sf_id = world.sf_person_create("Task", {"Subject": "A"})
    world.drain()
    project = linked_pms(world, sf_id, "task_project")
    world.sf_person_edit(sf_id, {"Subject": "from Salesforce"})
    world.pms_person_edit(project["id"], {"name": "from Custompms"})  # later clock
    world.drain()
    assert world.sf[sf_id]["Subject"] == "from Custompms"
    assert world.pms[project["id"]]["name"] == "from Custompms"
    assert linked_pms(world, sf_id, "task_task")["title"] == "from Custompms"
    winner = world.hubs[sf_id].winners["Subject"]
    assert (winner.source, winner.value) == ("task_project", "from Custompms")


def test_salesforce_task_delete_cancels_project_and_deletes_task(world: World) -> None:
    sf_id = world.sf_person_create("Task", {"Subject": "A"})
    world.drain()
    project = linked_pms(world, sf_id, "task_project")
    task = linked_pms(world, sf_id, "task_task")
    world.sf_person_delete(sf_id)
    world.drain()
    assert world.pms[project["id"]]["status"] == "cancelled"
    assert task["id"] in world.pms_deleted
    assert project["id"] not in world.pms_deleted


def test_division_delete_deactivates_customer(world: World) -> None:
    division = world.sf_person_create("Division", {"Name": "EMEA", "IsActive": True})
    world.drain()
    customer = linked_pms(world, division, "division_customer")
    world.sf_person_delete(division)
    world.drain()
    assert world.pms[customer["id"]]["active"] is False
    assert customer["id"] not in world.pms_deleted


def test_deleted_project_unlinks_and_is_never_recreated(world: World) -> None:
    sf_id = world.sf_person_create("Task", {"Subject": "A"})
    world.drain()
    project = linked_pms(world, sf_id, "task_project")
    world.pms_person_delete(project["id"])
    world.drain()
    world.sf_person_edit(sf_id, {"Subject": "B"})
    world.drain()
    assert sf_id not in world.sf_deleted
    assert world.hubs[sf_id].links["task_project"].state == "detached"
    assert len([r for r in world.pms.values() if r["_type"] == "project"]) == 1
    assert linked_pms(world, sf_id, "task_task")["title"] == "B"


def test_redelivering_everything_creates_nothing_twice(world: World) -> None:
    world.sf_person_create("Task", {"Subject": "A"})
    world.pms_person_create("customer", {"name": "C"})
    for _ in range(200):
        keys = world.pending()
        if not keys:
            break
        world.deliver(keys[0])
        world.deliver(keys[0], redeliver=True)
    world.drain()
    assert len(world.sync_created_pms) == 2
    assert len(world.sync_created_sf) == 1


def test_a_value_too_long_for_salesforce_is_reported_with_flow_record_and_field(
    world: World,
) -> None:
    customer = world.pms_person_create("customer", {"name": "x" * 200})
    other = world.pms_person_create("customer", {"name": "fine"})
    world.drain()
    assert world.problems, "the over-length name must be reported"
    problem = world.problems[0]
    assert (problem.flow, problem.record) == ("division_customer", customer)
    assert "Name" in problem.reason
    assert any(r.get("Custompms_Id__c") == other for r in world.sf.values())
