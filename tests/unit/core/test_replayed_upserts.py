"""A replayed upsert of a Custompms record's Salesforce twin never puts older values back.

Found by `make faults-full` (kill test, seed 97924813, K044 and K049; docs/faults.md Found
19): a Project a person made; the engine decided its Task's upsert twice (a kill after the
output flush replayed the batch). The first upsert made the Task, a person edited its
ActivityDate, and the second upsert, applied after the edit, wrote the Project's older due
date back over it. An upsert by external id updates a live twin unconditionally, and the
capture, restarted meanwhile, saw only the twin's latest state (the sync's write), so the
person's edit never reached the engine.
"""

from __future__ import annotations

import copy

import pytest

from foundation.wire import OpOutcome, WriteResult
from streams.core.fold import on_sf_change
from streams.core.hub import Winner
from streams.core.model import Change, Decision
from streams.core.reconcile import reconcile
from streams.core.results import on_result
from streams.core.rules import Rules
from streams.mapping.flows import FLOWS
from tests.support.world import World

RULES = Rules(FLOWS)


def test_a_persons_edit_of_the_twin_survives_the_replayed_upsert() -> None:
    world = World(rules=RULES)
    pms_id = world.pms_person_create("project", {"name": "P", "due_date": "2027-09-03"})
    world.deliver(("pms-cdc", pms_id))
    key = ("writes", f"pms:{pms_id}")
    world.lose_answer(key)  # the twin is made; the command comes again
    [twin] = world.sf
    world.deliver(("sf-cdc", twin))  # the twin's creation
    world.sf_person_edit(twin, {"ActivityDate": "2029-06-15"})
    world.deliver(key)  # the replayed upsert lands after the person's edit
    world.coalesce(("sf-cdc", twin))  # a restarted capture sees only the latest state
    world.drain()
    assert world.sf[twin]["ActivityDate"] == "2029-06-15", "the person's edit was overwritten"
    assert world.pms[pms_id]["due_date"] == "2029-06-15"
    assert [r for r in world.sf if r not in world.sf_deleted] == [twin], "one twin"


def test_a_twin_whose_changes_have_not_arrived_is_not_written_to() -> None:
    """The engine lost its state (a kill after the output flush) and learns the twin from a
    replayed upsert's answer that wrote nothing: it does not know what the twin holds, so
    it writes to it only once one of the twin's Salesforce changes has been folded."""
    found = OpOutcome(flow="task_project", entity="Task", action="upsert", outcome="ok",
                      target_id="00T5e0000000042EAA", written={})  # fmt: skip
    answer = WriteResult("c-1", "pms:prj_000042", "salesforce", (found,), acked_at=1)
    hub, decision = on_result(None, answer, RULES, now=5)
    assert hub is not None and hub.sf_modstamp is None
    hub.winners["Subject"] = Winner("task_project", 4, "From the Project")
    decision = Decision()
    reconcile(hub, RULES, 6, decision)
    assert [w for w in decision.writes if w.system == "salesforce"] == []
    created = Change("salesforce", "Task", hub.sf_id, "c", {"Id": hub.sf_id, "Subject": "Old"},
                     7, "sync")  # fmt: skip
    hub, decision = on_sf_change(hub, created, RULES, now=8)
    [write] = [w for w in decision.writes if w.system == "salesforce"]
    assert write.fields["Subject"] == "From the Project" and write.if_match == 7


def test_a_twin_captured_before_its_upsert_answer_keeps_the_projects_later_edit() -> None:
    """Found by `make faults-full` (kill test, seed 433700237, K037, K040, K048; docs/faults.md
    Found 22): the capture's first sight of a twin the sync made was a person's edit of one
    field, and it reached the hub before the upsert's answer (topics are not ordered with
    each other, and an engine restart reads both at once). Every value the upsert wrote then
    counted as that person's, newer than the Project's edit made while the upsert was on its
    way, and the Project's name was put back."""
    world = World(rules=RULES)
    pms_id = world.pms_person_create("project", {"name": "First", "due_date": "2027-09-03"})
    world.deliver(("pms-cdc", pms_id))
    world.pms_person_edit(pms_id, {"name": "Renamed while the twin was made"})
    world.deliver(("writes", f"pms:{pms_id}"))  # the twin is made; its answer waits
    [twin] = world.sf
    world.sf_person_edit(twin, {"Status": "Deferred"})
    world.coalesce(("sf-cdc", twin))  # the capture sees the twin once, after the edit
    world.deliver(("sf-cdc", twin))  # before the upsert's answer
    world.drain()
    assert world.sf[twin]["Status"] == "Deferred"
    assert world.pms[pms_id]["status"] == "on_hold"
    assert world.pms[pms_id]["name"] == "Renamed while the twin was made", "the edit was undone"
    assert world.sf[twin]["Subject"] == "Renamed while the twin was made"


def _project_with_its_twin() -> tuple[World, str, str]:
    """A Project a person made, synced: its Salesforce Task made and both changes folded."""
    world = World(rules=RULES)
    pms_id = world.pms_person_create("project", {"name": "First", "due_date": "2027-09-03"})
    world.deliver(("pms-cdc", pms_id))
    world.drain()
    [twin] = world.sf
    return world, pms_id, twin


def test_a_late_older_snapshot_of_the_twin_does_not_stall_its_writes() -> None:
    """A backfill reads a record, a sync write lands, and the backfill's envelope (op r)
    arrives after the write's echo. Folded as the latest state, it moved the hub's
    SystemModstamp back, so the next write's `if_match` was older than the sync's own
    write: a conflict, waiting for a change the hub had already folded, for good."""
    world, pms_id, twin = _project_with_its_twin()
    read_by_a_backfill = {**world.history[-1], "op": "r"}
    assert read_by_a_backfill["source"]["id"] == twin
    world.pms_person_edit(pms_id, {"name": "Second"})
    world.drain()
    world.queues[("sf-cdc", twin)].append(read_by_a_backfill)
    world.drain()
    world.pms_person_edit(pms_id, {"name": "Third"})
    world.drain()
    assert world.sf[twin]["Subject"] == "Third"
    assert world.pms[pms_id]["name"] == "Third"


def test_replayed_older_changes_of_both_records_change_nothing() -> None:
    """Found by `make faults-full` (kill test, seed 656982118, K031; docs/faults.md Found 23):
    an engine killed in a loop replayed input its stored state already held (the state's
    changelog is written before the input offsets are committed). The Task's change from a
    person's date edit, made after the Project's rename and carrying the Subject from before
    it, folded again after the rename had been written: the old Subject was news then, that
    person's newer edit, and the rename was undone on both sides."""
    world, pms_id, twin = _project_with_its_twin()
    old_project = copy.deepcopy(world.history[0])
    assert old_project["source"]["id"] == pms_id
    world.pms_person_edit(pms_id, {"name": "Renamed"})
    world.sf_person_edit(twin, {"ActivityDate": "2029-01-01"})  # after the rename
    old_task = copy.deepcopy(world.history[-1])
    world.deliver(("sf-cdc", twin))  # still the old Subject: not news
    world.drain()
    assert world.sf[twin]["Subject"] == "Renamed"
    world.queues[("sf-cdc", twin)].append(old_task)  # both replayed
    world.queues[("pms-cdc", pms_id)].append(old_project)
    world.drain()
    assert world.pms[pms_id]["name"] == "Renamed", "the rename was undone"
    assert world.sf[twin]["Subject"] == "Renamed"
    assert world.pms[pms_id]["due_date"] == "2029-01-01"


@pytest.mark.xfail(
    strict=True,
    reason="docs/faults.md Found 24 (open): the answer to a write the restored state never "
    "issued forgets what it knows of the field, so a later change carrying the old value wins",
)
def test_a_person_edit_survives_a_crash_that_loses_the_write_it_caused() -> None:
    """docs/faults.md Found 24, as the full kill test found it (K014, K041): a person's
    Custompms edit of a Division's Customer is folded and its Salesforce write issued; a
    person's Salesforce edit of another field makes that write a conflict; the engine dies
    before storing its state. Replayed, the conflict's answer (for a write the restored
    state never issued) makes the Salesforce side's old value unknown, and the person's
    Salesforce change, which still carries it, then wins over the Custompms edit."""
    world = World(rules=RULES)
    division = world.sf_person_create("Division", {"Name": "Acme", "IsActive": True})
    world.deliver(("sf-cdc", division))
    world.drain()
    world.commit()
    [customer] = world.pms
    world.pms_person_edit(customer, {"active": False})  # version 2
    world.deliver(("pms-cdc", customer))
    world.deliver(("inbox", division))  # folded: the IsActive write is on its way
    world.sf_person_edit(division, {"Name": "Acme Corp"})
    world.deliver(("sf-cdc", division))  # the name write, conditional on version 2
    world.deliver(("writes", division))  # both land; the name at version 3
    world.crash()  # the state from before both; the two changes are delivered again
    world.drain()  # the answers first (version 3), then the replayed version 2
    assert world.pms[customer]["active"] is False
    assert world.sf[division]["IsActive"] is False, "the person's edit was lost"
    assert world.pms[customer]["name"] == "Acme Corp"
