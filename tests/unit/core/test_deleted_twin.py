"""A Custompms record whose Salesforce twin a person deleted: an upsert replayed after a
sink's crash finds the twin in the recycle bin (outcome gone). Found by the kill test
(K011: a sink killed after applying the upsert and before reporting it)."""

from __future__ import annotations

import pytest

from foundation.wire import OpOutcome, WriteResult
from streams.core.results import on_result
from streams.core.rules import Rules
from streams.mapping.flows import FLOWS
from streams.mapping.table import DeleteAction

RULES = Rules(FLOWS)


def _gone(flow: str, entity: str, pms_id: str) -> WriteResult:
    outcome = OpOutcome(flow=flow, entity=entity, action="upsert", outcome="gone",
                        error="its Salesforce twin was deleted; not re-created")  # fmt: skip
    return WriteResult("c-1", f"pms:{pms_id}", "salesforce", (outcome,), acked_at=1)


@pytest.mark.parametrize("flow", sorted(f.name for f in RULES.flows.values() if f.create_in_sf))
def test_a_twin_found_deleted_applies_the_flows_delete_rule_and_detaches(flow: str) -> None:
    table = RULES.flows[flow]
    _, decision = on_result(None, _gone(flow, table.sf_object, "prj_000042"), RULES, now=5)
    assert [(e.pms_id, e.action) for e in decision.links] == [("prj_000042", "unlinked")]
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
    _, decision = on_result(None, _gone("task_project", "Task", "prj_000007"), RULES, now=5)
    assert [(w.action, w.fields.get("status")) for w in decision.writes] == [
        ("update", "cancelled")
    ]
