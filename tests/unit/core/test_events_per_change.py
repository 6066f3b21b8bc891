"""How many records the engine consumes per change: the figures the engine issue targets,
counted by the engine itself (the Processor's per-event counts) in the test world."""

from __future__ import annotations

from streams.core.rules import Rules
from streams.mapping.flows import FLOWS
from tests.support.world import World


def engine_events(world: World) -> dict[str, int]:
    return {k[6:]: v for k, v in world.processor.counts.items() if k.startswith("event_")}


def test_a_task_created_in_salesforce_costs_four_engine_events() -> None:
    world = World(rules=Rules(FLOWS))
    task = world.sf_person_create("Task", {"Subject": "Call", "Status": "Not Started"})
    world.drain()
    assert engine_events(world) == {"SalesforceChanged": 1, "WriteAcked": 1, "LinkClaimed": 2}
    hub = world.hubs[task]
    assert {f: link.state for f, link in hub.links.items()} == {
        "task_project": "linked",
        "task_task": "linked",
    }
    project, pms_task = (hub.links[f].pms_id for f in ("task_project", "task_task"))
    assert project is not None and pms_task is not None
    assert world.pms[pms_task]["project_id"] == project, "created together, referring"


def test_an_edit_of_a_linked_task_costs_two_engine_events() -> None:
    world = World(rules=Rules(FLOWS))
    task = world.sf_person_create("Task", {"Subject": "Call", "Status": "Not Started"})
    world.drain()
    world.processor.counts.clear()
    world.sf_person_edit(task, {"Subject": "Call back", "Status": "In Progress"})
    world.drain()
    assert engine_events(world) == {"SalesforceChanged": 1, "WriteAcked": 1}
    links = world.hubs[task].links
    project, pms_task = (world.pms[links[f].pms_id or ""] for f in ("task_project", "task_task"))
    assert (project["name"], pms_task["title"]) == ("Call back", "Call back")
    assert world.writes_applied == 4, "two creates, then one command of two updates"
