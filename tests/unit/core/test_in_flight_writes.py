"""Values a side held before a sync write landed are not mistaken for a person's edit."""

from __future__ import annotations

from collections.abc import Mapping

from foundation.wire import OpOutcome, WriteResult
from streams.core.fold import on_pms_change
from streams.core.hub import Hub, PmsLink, Winner
from streams.core.known import MAX_STALE
from streams.core.model import Change, Decision, Origin
from streams.core.results import on_result
from streams.core.rules import Rules
from streams.mapping.flows import FLOWS
from tests.support.world import World

RULES = Rules(FLOWS)
SF_ID = "00T5e00000000AAEAA"
PMS_ID = "prj_1"


def _linked_hub() -> Hub:
    """A Task linked to a Project whose status the sync is writing (planned -> active)."""
    hub = Hub(sf_id=SF_ID, sf_object="Task")
    hub.sf_known = {"Subject": "P", "Status": "In Progress", "Priority": "Normal"}
    hub.winners["Status"] = Winner("sf", 2_000, "In Progress")
    link = PmsLink(flow="task_project", state="linked", pms_id=PMS_ID, modstamp=1_000)
    link.known = {"name": "P", "status": "active", "priority": "medium"}
    link.stale = {"status": ["planned"]}
    hub.links["task_project"] = link
    return hub


def _pms_change(record: Mapping[str, object], ts: int, origin: Origin = "person") -> Change:
    return Change("custompms", "projects", PMS_ID, "u", record, ts, origin)


def test_a_stale_read_neither_wins_nor_becomes_known() -> None:
    hub = _linked_hub()
    record = {"name": "P", "status": "planned", "priority": "high"}
    hub, decision = on_pms_change(hub, "task_project", _pms_change(record, 3_000), RULES, 3_000)
    link = hub.links["task_project"]
    assert link.known["status"] == "active" and link.stale == {"status": ["planned"]}
    assert hub.winners["Status"].source == "sf"
    sf_writes = [w for w in decision.writes if w.system == "salesforce"]
    assert len(sf_writes) == 1
    assert sf_writes[0].fields["Priority"] == "High" and "Status" not in sf_writes[0].fields


def test_after_the_echo_the_old_value_is_a_persons_edit_again() -> None:
    hub = _linked_hub()
    echo = {"name": "P", "status": "active", "priority": "medium"}
    hub, _ = on_pms_change(hub, "task_project", _pms_change(echo, 3_000, "sync"), RULES, 3_000)
    assert hub.links["task_project"].stale == {}
    back = {"name": "P", "status": "planned", "priority": "medium"}
    hub, decision = on_pms_change(hub, "task_project", _pms_change(back, 4_000), RULES, 4_000)
    assert hub.winners["Status"].source == "task_project"
    assert any(w.fields.get("Status") == "Not Started" for w in decision.writes)


def test_a_value_nobody_wrote_clears_the_stale_list_and_wins() -> None:
    hub = _linked_hub()
    record = {"name": "P", "status": "on_hold", "priority": "medium"}
    hub, _ = on_pms_change(hub, "task_project", _pms_change(record, 3_000), RULES, 3_000)
    assert hub.links["task_project"].stale == {}
    assert hub.winners["Status"].value == "on_hold"


def test_a_failed_write_forgets_its_stale_values() -> None:
    hub = _linked_hub()
    failed = OpOutcome(
        flow="task_project",
        entity="project",
        action="update",
        outcome="failed",
        target_id=PMS_ID,
        written={"status": "active"},
        error="HTTP 503",
    )
    reported = WriteResult("c1", SF_ID, "custompms", (failed,), 3_000)
    result, _ = on_result(hub, reported, RULES, 3_000)
    assert result is not None
    link = result.links["task_project"]
    assert "status" not in link.known and link.stale == {}


def test_stale_values_survive_the_link_table_round_trip() -> None:
    hub = _linked_hub()
    hub.sf_stale = {"Subject": ["Old"]}
    again = Hub.from_json(hub.to_json())
    assert again.sf_stale == {"Subject": ["Old"]}
    assert again.links["task_project"].stale == {"status": ["planned"]}
    assert "x" not in Hub(sf_id=SF_ID, sf_object="Task").to_json(), "empty costs nothing"


def test_overlapping_writes_of_one_field_remember_a_bounded_history() -> None:
    world = World(rules=RULES)
    sf_id = world.sf_person_create("Task", {"Subject": "S0"})
    world.drain()
    for i in range(1, MAX_STALE + 4):
        world.sf_person_edit(sf_id, {"Subject": f"S{i}"})
        world.deliver(("sf-cdc", sf_id))  # each edit issued while the previous is in flight
    link = world.hubs[sf_id].linked("task_project")
    assert link is not None
    assert len(link.stale["name"]) == MAX_STALE
    world.drain()
    final = f"S{MAX_STALE + 3}"
    assert world.pms[link.pms_id or ""]["name"] == final
    assert world.sf[sf_id]["Subject"] == final


def _acked(version: int) -> WriteResult:
    """The sink's answer: the status write landed at `version`."""
    landed = OpOutcome(
        flow="task_project",
        entity="project",
        action="update",
        outcome="ok",
        target_id=PMS_ID,
        version=version,
        written={"status": "active"},
    )
    return WriteResult("c1", SF_ID, "custompms", (landed,), 3_000)


def _after_the_answer(
    landed_at: int, record: Mapping[str, object], ts: int, version: int
) -> tuple[Hub, Decision]:
    """The status write (decided at version 1) landed at `landed_at`; then a person's change
    of the Project at `version` is folded."""
    hub = _linked_hub()
    hub.links["task_project"].version = 1
    acked, _ = on_result(hub, _acked(landed_at), RULES, 3_000)
    assert acked is not None
    change = Change("custompms", "projects", PMS_ID, "u", record, ts, "person", version=version)
    return on_pms_change(acked, "task_project", change, RULES, ts)


def test_a_change_newer_than_the_landed_write_is_a_persons_edit_even_with_an_old_value() -> None:
    """Found in `make faults-full` (broker restart, B003/B041): capture never publishes the
    sync's own Custompms changes, so no echo ever cleared the stale values; a person who set
    a field back to its value from before the sync's write was ignored for good."""
    back = {"name": "P", "status": "planned", "priority": "medium"}
    hub, decision = _after_the_answer(2, back, 4_000, 3)
    assert hub.winners["Status"].source == "task_project"
    assert any(w.fields.get("Status") == "Not Started" for w in decision.writes)


def test_a_change_older_than_the_landed_write_is_still_a_stale_read() -> None:
    """A person's edit of another field made before the write landed, delivered after the
    write's answer: it still carries the old status, which is not that person's edit."""
    other = {"name": "P", "status": "planned", "priority": "high"}
    hub, decision = _after_the_answer(3, other, 3_500, 2)
    assert hub.winners["Status"].source == "sf"
    assert not any("Status" in w.fields for w in decision.writes if w.system == "salesforce")


def test_a_person_who_sets_a_field_back_after_the_sync_wrote_it_wins_in_the_world() -> None:
    world = World(rules=RULES)
    sf_id = world.sf_person_create("Task", {"Subject": "S", "Status": "Not Started"})
    world.drain()
    link = world.hubs[sf_id].linked("task_project")
    assert link is not None and link.pms_id is not None
    world.sf_person_edit(sf_id, {"Status": "In Progress"})
    world.drain()
    assert world.pms[link.pms_id]["status"] == "active"
    world.pms_person_edit(link.pms_id, {"status": "planned"})
    world.drain()
    assert world.sf[sf_id]["Status"] == "Not Started", "the person's later edit is lost"
