"""A write the sink skipped because the record's version moved (412, outcome conflict).

Found by the emulator-fault suite (E004): a Custompms update applied, its answer dropped,
the retry found the version moved by the sync's own write. Capture never publishes the
sync's own Custompms changes, so an engine waiting for "the change that caused" the
conflict waited forever, and a later Salesforce edit decided with the old version was lost.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from foundation.wire import OpOutcome, WriteResult
from streams.core.hub import Hub, PmsLink
from streams.core.results import on_result
from streams.core.rules import Rules
from streams.mapping.flows import FLOWS
from tests.support.world import World

RULES = Rules(FLOWS)
SF_ID = "00T5e00000000AAEAA"
PMS_ID = "tsk_000002"


def _linked(version: int) -> Hub:
    hub = Hub(sf_id=SF_ID, sf_object="Task")
    hub.sf_known = {"Subject": "T", "Priority": "Low", "ActivityDate": "2027-12-11"}
    link = PmsLink(flow="task_task", state="linked", pms_id=PMS_ID, version=version)
    link.known = {"title": "T", "priority": "low", "due_date": "2027-12-11"}
    hub.links["task_task"] = link
    return hub


def _conflict(written: dict[str, Any], record: dict[str, Any], version: int) -> WriteResult:
    outcome = OpOutcome(flow="task_task", entity="task", action="update", outcome="conflict",
                        target_id=PMS_ID, version=version, written=written,
                        record={"id": PMS_ID, "version": version, **record},
                        error="412 version_mismatch")  # fmt: skip
    return WriteResult("c-1", SF_ID, "custompms", (outcome,), acked_at=5)


def test_a_record_that_holds_what_the_write_sent_counts_as_written_at_its_version() -> None:
    hub, decision = on_result(
        _linked(2),
        _conflict(
            {"priority": "low"}, {"title": "T", "priority": "low", "due_date": "2027-12-11"}, 3
        ),
        RULES,
        now=5,
    )
    assert hub is not None
    link = hub.links["task_task"]
    assert link.version == 3, "the next write conditions on the version the record is at"
    assert link.known["priority"] == "low"
    assert decision.skipped is None
    assert [w for w in decision.writes if w.flow == "task_task"] == [], "nothing left to write"


def test_a_record_someone_else_changed_still_waits_for_that_change() -> None:
    hub, decision = on_result(
        _linked(2),
        _conflict(
            {"priority": "low"}, {"title": "T", "priority": "high", "due_date": "2027-12-11"}, 3
        ),
        RULES,
        now=5,
    )
    assert hub is not None
    link = hub.links["task_task"]
    assert link.version == 2 and "priority" not in link.known
    assert decision.skipped == "write conflict: waiting for the change that caused it"


def test_two_edits_in_flight_whose_first_answer_is_lost_both_reach_custompms() -> None:
    world = World(rules=RULES)
    sf_id = world.sf_person_create("Task", {"Subject": "E004", "ActivityDate": date(2029, 6, 8)})
    world.drain()
    world.sf_person_edit(sf_id, {"Priority": "Low"})
    world.deliver(("sf-cdc", sf_id))
    world.sf_person_edit(sf_id, {"ActivityDate": date(2027, 12, 11)})
    world.deliver(("sf-cdc", sf_id))  # decided before the first write's answer came back
    queued = [key for key in world.pending() if key[0] == "writes"]
    assert queued, "the edits made no Custompms write"
    world.lose_answer(queued[0])
    world.drain()
    link = world.hubs[sf_id].linked("task_task")
    assert link is not None and link.pms_id is not None
    task = world.pms[link.pms_id]
    assert (task["priority"], task["due_date"]) == ("low", "2027-12-11")
    project_link = world.hubs[sf_id].linked("task_project")
    assert project_link is not None and project_link.pms_id is not None
    project = world.pms[project_link.pms_id]
    assert (project["priority"], project["due_date"]) == ("low", "2027-12-11")
