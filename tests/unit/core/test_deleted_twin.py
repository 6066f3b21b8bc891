"""A Custompms record whose Salesforce twin a person deleted: an upsert replayed after a
sink's crash finds the twin in the recycle bin (outcome gone). Found by the kill test
(K011: a sink killed after applying the upsert and before reporting it). The hub asks the
routing side to apply the flow's delete rule; the state machine found that it must not when
another hub claimed the record meanwhile."""

from __future__ import annotations

import pytest

from foundation.wire import OpOutcome, WriteResult
from streams.core.model import Decision
from streams.core.results import on_result
from streams.core.routes import Route, RouteDecision, RouteState, on_link_change
from streams.core.rules import Rules
from streams.mapping.flows import FLOWS
from streams.mapping.table import DeleteAction
from tests.support.world import World

RULES = Rules(FLOWS)


def _gone(flow: str, entity: str, pms_id: str) -> WriteResult:
    outcome = OpOutcome(flow=flow, entity=entity, action="upsert", outcome="gone",
                        error="its Salesforce twin was deleted; not re-created")  # fmt: skip
    return WriteResult("c-1", f"pms:{pms_id}", "salesforce", (outcome,), acked_at=1)


def _routed(decision: Decision, route: Route | None) -> RouteDecision:
    """What the routing side does with the hub's one link event."""
    [event] = decision.links
    return on_link_change(route, event, RULES, now=6)


@pytest.mark.parametrize("flow", sorted(f.name for f in RULES.flows.values() if f.create_in_sf))
def test_a_twin_found_deleted_applies_the_flows_delete_rule_and_detaches(flow: str) -> None:
    table = RULES.flows[flow]
    _, found = on_result(None, _gone(flow, table.sf_object, "prj_000042"), RULES, now=5)
    assert [(e.pms_id, e.action) for e in found.links] == [("prj_000042", "unlinked")]
    assert found.writes == [], "the routing side decides whether the rule still applies"
    decision = _routed(found, Route("creating", flow=flow))
    assert decision.route is not None and decision.route.state == "detached"
    rule = table.delete_policy.sf_deleted
    writes = [(w.system, w.action, w.target_id, dict(w.fields)) for w in decision.writes]
    if rule.action is DeleteAction.PROPAGATE:
        assert writes == [("custompms", "delete", "prj_000042", {})]
    elif rule.action is DeleteAction.DEACTIVATE:
        assert writes == [("custompms", "update", "prj_000042", dict(rule.patch))]
        assert all(w.if_match is None for w in decision.writes), "a person cannot undo it"
    else:
        assert writes == []


def test_the_task_project_flow_cancels_the_project() -> None:
    _, found = on_result(None, _gone("task_project", "Task", "prj_000007"), RULES, now=5)
    decision = _routed(found, None)
    assert [(w.action, w.fields.get("status")) for w in decision.writes] == [
        ("update", "cancelled")
    ]


@pytest.mark.parametrize("state", ["linked", "detached"])
def test_a_record_another_hub_owns_or_already_detached_is_left_alone(state: RouteState) -> None:
    _, found = on_result(None, _gone("task_project", "Task", "prj_000007"), RULES, now=5)
    route = Route(state, "00T5e0000000009EAA", "task_project")
    decision = _routed(found, route)
    assert decision.writes == [] and decision.route == route


def test_a_customer_claimed_while_its_twins_upsert_was_replayed_stays_active() -> None:
    """State machine, seed 1: a person's Customer; the engine crashed after deciding its
    Division's upsert, and the sink applied the upsert but its answer was lost. A person then
    made a Division of the same name (the sync claimed the Customer for it) and deleted the
    twin. The replayed upsert found the twin gone; applying the delete rule then deactivated
    the Customer the new Division now owns."""
    world = World(rules=RULES)
    pms_id = world.pms_person_create("customer", {"name": "Acme", "kind": "division"})
    world.deliver(("pms-cdc", pms_id))
    world.crash()
    world.lose_answer(("writes", f"pms:{pms_id}"))
    [twin] = world.sf
    division = world.sf_person_create("Division", {"Name": "Acme", "IsActive": True})
    world.sf_person_delete(twin)
    world.drain()
    link = world.hubs[division].linked("division_customer")
    assert link is not None and link.pms_id == pms_id, "the claim made the pair"
    assert world.pms[pms_id]["active"] is True
    assert world.sf[division]["IsActive"] is True
