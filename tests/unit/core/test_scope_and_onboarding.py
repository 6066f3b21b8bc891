"""Scope, the creation gate and onboarding decisions in the pure core, through the World."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from streams.core.rules import Rules
from streams.mapping.flows import FLOWS
from streams.mapping.scope import Scope
from streams.mapping.table import Flow
from tests.support.world import World

#: The sync's first start in the World's clock: records created before it predate the sync.
FIRST_START = 900
OLD = 100


def flows(**changed: Flow) -> dict[str, Flow]:
    return {**FLOWS, **changed}


def scoped(name: str, **scope: Any) -> Flow:
    return replace(FLOWS[name], scope=Scope(**scope))


def links(world: World, sf_id: str) -> dict[str, str | None]:
    hub = world.hubs.get(sf_id)
    if hub is None:
        return {}
    return {name: link.state for name, link in hub.links.items()}


def linked_pms(world: World, sf_id: str, flow: str) -> dict[str, Any]:
    link = world.hubs[sf_id].linked(flow)
    assert link is not None and link.pms_id is not None
    return world.pms[link.pms_id]


# -- scope ----------------------------------------------------------------------------------


def test_an_out_of_scope_task_creates_nothing_and_edited_into_scope_is_created() -> None:
    world = World(rules=Rules(FLOWS))
    world.capture["sf"] = {"scope": {"task_project": False, "task_task": False}}
    sf_id = world.sf_person_create("Task", {"Subject": "Logged call"})
    world.drain()
    assert links(world, sf_id) == {} and world.sync_created_pms == []
    world.capture["sf"] = {"scope": {"task_project": True, "task_task": True}}
    world.sf_person_edit(sf_id, {"Type": "Meeting"})
    world.drain()
    assert links(world, sf_id) == {"task_project": "linked", "task_task": "linked"}
    assert linked_pms(world, sf_id, "task_project")["name"] == "Logged call"


def test_a_task_in_one_flows_scope_only_creates_only_there() -> None:
    world = World(rules=Rules(FLOWS))
    world.capture["sf"] = {"scope": {"task_project": True, "task_task": False}}
    sf_id = world.sf_person_create("Task", {"Subject": "Project only"})
    world.drain()
    assert links(world, sf_id) == {"task_project": "linked"}


def test_a_linked_task_leaving_scope_keeps_its_link_under_keep() -> None:
    rules = Rules(flows(task_project=scoped("task_project", sf_condition="x", when_leaving="keep")))
    world = World(rules=rules)
    sf_id = world.sf_person_create("Task", {"Subject": "Kept"})
    world.drain()
    world.capture["sf"] = {"scope": {"task_project": False}}
    world.sf_person_edit(sf_id, {"Subject": "Still synced"})
    world.drain()
    assert links(world, sf_id)["task_project"] == "linked"
    assert linked_pms(world, sf_id, "task_project")["name"] == "Still synced"


def test_a_linked_task_leaving_scope_is_unlinked_under_unlink_and_both_records_stay() -> None:
    rules = Rules(
        flows(task_project=scoped("task_project", sf_condition="x", when_leaving="unlink"))
    )
    world = World(rules=rules)
    sf_id = world.sf_person_create("Task", {"Subject": "Leaving"})
    world.drain()
    project_id = world.hubs[sf_id].links["task_project"].pms_id
    assert project_id is not None
    world.capture["sf"] = {"scope": {"task_project": False}}
    world.sf_person_edit(sf_id, {"Subject": "Left"})
    world.drain()
    assert links(world, sf_id) == {"task_project": "detached", "task_task": "linked"}
    assert world.route_table[project_id].state == "detached"
    assert world.pms[project_id]["name"] == "Leaving" and project_id not in world.pms_deleted
    world.pms_person_edit(project_id, {"name": "Ignored"})
    world.drain()
    assert world.sf[sf_id]["Subject"] == "Left"


def test_a_project_outside_the_custompms_filter_creates_nothing_until_it_enters() -> None:
    rules = Rules(flows(task_project=scoped("task_project", pms_filter=(("status", ("active",)),))))
    world = World(rules=rules)
    project_id = world.pms_person_create("project", {"name": "Draft", "status": "planned"})
    world.drain()
    assert world.sync_created_sf == []
    world.pms_person_edit(project_id, {"status": "active"})
    world.drain()
    assert len(world.sync_created_sf) == 1
    assert world.sf[world.sync_created_sf[0]]["Subject"] == "Draft"


def test_a_linked_project_leaving_the_filter_under_unlink_is_detached() -> None:
    scope = Scope(pms_filter=(("status", ("planned", "active")),), when_leaving="unlink")
    world = World(rules=Rules(flows(task_project=replace(FLOWS["task_project"], scope=scope))))
    sf_id = world.sf_person_create("Task", {"Subject": "Filtered"})
    world.drain()
    project = linked_pms(world, sf_id, "task_project")
    world.pms_person_edit(project["id"], {"status": "on_hold"})
    world.drain()
    assert links(world, sf_id)["task_project"] == "detached"
    assert world.sf[sf_id]["Status"] == "Not Started", "the leaving edit is not carried"


# -- the creation gate --------------------------------------------------------------------


def gated(**kw: Any) -> World:
    return World(rules=Rules(FLOWS, existing_before=FIRST_START, **kw))


def test_a_task_older_than_the_sync_creates_nothing_until_onboarding_releases_it() -> None:
    world = gated()
    sf_id = world.sf_person_create("Task", {"Subject": "Old", "CreatedDate": OLD})
    world.drain()
    world.sf_person_edit(sf_id, {"Subject": "Old, edited"})
    world.drain()
    assert links(world, sf_id) == {} and world.sync_created_pms == []
    world.capture["sf"] = {"onboarding": {"run": "r1", "link": {}, "create": ["task_project"]}}
    world.sf_person_edit(sf_id, {"Priority": "High"})
    world.drain()
    assert links(world, sf_id) == {"task_project": "linked"}, "task_task was not released"


def test_a_task_made_after_the_first_start_creates_at_once() -> None:
    world = gated()
    sf_id = world.sf_person_create("Task", {"Subject": "New", "CreatedDate": FIRST_START + 1})
    world.drain()
    assert links(world, sf_id) == {"task_project": "linked", "task_task": "linked"}


def test_the_setting_lets_old_records_create_without_onboarding() -> None:
    world = gated(create_existing=True)
    sf_id = world.sf_person_create("Task", {"Subject": "Old", "CreatedDate": OLD})
    world.drain()
    assert links(world, sf_id) == {"task_project": "linked", "task_task": "linked"}


def test_a_flow_whose_existing_records_create_is_not_gated() -> None:
    world = gated()
    org = replace(FLOWS["task_project"], existing_records="create")
    world = World(rules=Rules(flows(task_project=org), existing_before=FIRST_START))
    sf_id = world.sf_person_create("Task", {"Subject": "Old", "CreatedDate": OLD})
    world.drain()
    assert links(world, sf_id) == {"task_project": "linked"}


def test_an_old_project_waits_for_onboarding_and_a_released_one_creates_its_task() -> None:
    world = gated()
    first = world.pms_person_create("project", {"name": "Old", "created_at": OLD})
    world.drain()
    assert world.sync_created_sf == []
    world.capture["pms"] = {"onboarding": {"run": "r1", "link": {}, "create": ["task_project"]}}
    world.pms_person_edit(first, {"description": "released"})
    world.drain()
    assert [world.sf[i]["Subject"] for i in world.sync_created_sf] == ["Old"]


# -- onboarding links ------------------------------------------------------------------------


def test_an_onboarding_match_links_two_old_records_and_the_pair_syncs() -> None:
    world = gated()
    project_id = world.pms_person_create("project", {"name": "Pair", "created_at": OLD})
    sf_id = world.sf_person_create("Task", {"Subject": "pair", "CreatedDate": OLD})
    world.drain()
    assert links(world, sf_id) == {}
    world.capture["sf"] = {
        "onboarding": {"run": "r1", "link": {"task_project": project_id}, "create": []}
    }
    world.sf_person_edit(sf_id, {"Priority": "High"})
    world.capture.clear()
    world.drain()
    assert links(world, sf_id) == {"task_project": "linked"}
    assert world.route_table[project_id].state == "linked"
    assert world.pms[project_id]["name"] == "pair", "the newer record's values win"
    assert world.sync_created_pms == []
    world.pms_person_edit(project_id, {"status": "active"})
    world.drain()
    assert world.sf[sf_id]["Status"] == "In Progress"


def test_an_onboarding_match_is_a_claim_and_nothing_is_written_before_it_is_accepted() -> None:
    world = gated()
    project_id = world.pms_person_create("project", {"name": "Claimed", "created_at": OLD})
    sf_id = world.sf_person_create("Task", {"Subject": "claimed", "CreatedDate": OLD})
    world.drain()
    assert world.route_table[project_id].state == "unclaimed", "kept for a claimant"
    world.capture["sf"] = {
        "onboarding": {"run": "r1", "link": {"task_project": project_id}, "create": []}
    }
    world.sf_person_edit(sf_id, {"Priority": "High"})
    world.capture.clear()
    world.deliver(("sf-cdc", sf_id))
    assert links(world, sf_id) == {"task_project": "claimed"}
    assert world.pms[project_id]["name"] == "Claimed", "nothing written while claimed"
    world.drain()
    link = world.hubs[sf_id].linked("task_project")
    assert link is not None and link.version == world.pms[project_id]["version"]


def test_an_onboarding_claim_another_hub_owns_is_refused_and_creates_nothing() -> None:
    world = gated()
    owner = world.sf_person_create("Task", {"Subject": "Owner"})
    world.drain()
    taken = world.hubs[owner].links["task_project"].pms_id
    assert taken is not None
    sf_id = world.sf_person_create("Task", {"Subject": "Latecomer", "CreatedDate": OLD})
    world.drain()
    world.capture["sf"] = {
        "onboarding": {"run": "r1", "link": {"task_project": taken}, "create": []}
    }
    world.sf_person_edit(sf_id, {"Priority": "High"})
    world.capture.clear()
    world.drain()
    assert links(world, sf_id) == {}, "refused: unlinked, and still waiting for onboarding"
    assert world.route_table[taken].link_key == owner
    assert world.pms[taken]["name"] == "Owner"
    assert [p for p in world.sync_created_pms if p != taken] == [
        world.hubs[owner].links["task_task"].pms_id
    ], "only the owner's own Task was created"


def test_an_onboarding_link_for_a_flow_already_linked_changes_nothing() -> None:
    world = World(rules=Rules(FLOWS))
    sf_id = world.sf_person_create("Task", {"Subject": "Live"})
    world.drain()
    mine = world.hubs[sf_id].links["task_project"].pms_id
    world.capture["sf"] = {
        "onboarding": {"run": "r", "link": {"task_project": "prj_x"}, "create": []}
    }
    world.sf_person_edit(sf_id, {"Subject": "Live 2"})
    world.drain()
    assert world.hubs[sf_id].links["task_project"].pms_id == mine


# -- drift at creation ------------------------------------------------------------------------


@pytest.mark.parametrize("flow", ["task_project", "task_task"])
def test_an_unknown_picklist_value_leaves_only_that_field_out_of_the_create(flow: str) -> None:
    world = World(rules=Rules(FLOWS))
    sf_id = world.sf_person_create("Task", {"Subject": "Escalated one", "Status": "Escalated"})
    world.drain()
    record = linked_pms(world, sf_id, flow)
    assert record["name" if flow == "task_project" else "title"] == "Escalated one"
    drift = [p for p in world.problems if p.error_class == "UnknownValue" and p.flow == flow]
    assert [(p.record, p.field) for p in drift] == [(sf_id, "Status")]
    assert "add it to `to_custompms` of the row at config/mapping.yaml:" in drift[0].reason
    world.sf_person_edit(sf_id, {"Status": "Completed"})
    world.drain()
    assert linked_pms(world, sf_id, flow)["status"] in ("completed", "done")


def test_an_unknown_enum_value_in_custompms_still_creates_the_salesforce_task() -> None:
    world = World(rules=Rules(FLOWS))
    project_id = world.pms_person_create("project", {"name": "Odd", "priority": "urgent"})
    world.drain()
    (created,) = world.sync_created_sf
    assert (world.sf[created]["Subject"], world.sf[created]["Priority"]) == ("Odd", "Normal")
    drift = [p for p in world.problems if p.error_class == "UnknownValue"]
    # reported once, by the hub the change reaches through the new link
    assert [(p.record, p.field) for p in drift] == [(created, "priority")]
    assert "unknown value 'urgent'" in drift[0].reason and project_id in world.route_table
