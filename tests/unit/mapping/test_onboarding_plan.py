"""The onboarding plan of a flow: link, ambiguous, create, leave alone (pure)."""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.mapping.flows import FLOWS
from streams.mapping.onboarding import (
    PmsCandidate,
    SfCandidate,
    decisions,
    plan_flow,
    report_lines,
)

PROJECT = FLOWS["task_project"]
ORG = FLOWS["organization_customer"]
DAY = dt.date(2026, 6, 1)


def task(i: int, subject: str | None = None, **kw: object) -> SfCandidate:
    record = {"Subject": subject or f"Task {i}", "ActivityDate": DAY, "Status": "Not Started"}
    return SfCandidate(f"00T{i:012d}", record, **kw)  # type: ignore[arg-type]


def project(i: int, name: str | None = None, **kw: object) -> PmsCandidate:
    record = {"name": name or f"Task {i}", "due_date": DAY, "status": "planned"}
    return PmsCandidate(f"prj_{i:05d}", record, **kw)  # type: ignore[arg-type]


def test_a_thousand_tasks_and_three_hundred_projects_of_which_two_hundred_match() -> None:
    tasks = [task(i) for i in range(1000)]
    projects = [project(i) for i in range(200)] + [project(i, f"Other {i}") for i in range(100)]
    random.Random(7).shuffle(tasks)
    plan = plan_flow(PROJECT, tasks, projects)
    assert plan.summary() == {
        "link": 200,
        "ambiguous": 0,
        "create_in_custompms": 800,
        "create_in_salesforce": 100,
        "left_alone": 0,
        "already_linked": 0,
    }
    assert ("00T000000000007", "prj_00007") in plan.links


def test_linked_records_are_counted_and_left_out_so_a_second_run_does_nothing() -> None:
    tasks = [task(i, linked=True) for i in range(5)]
    projects = [project(i, routed=True) for i in range(5)]
    plan = plan_flow(PROJECT, tasks, projects)
    assert not plan.has_work
    assert plan.summary()["already_linked"] == 10


def test_a_key_shared_by_several_records_is_ambiguous_and_nothing_of_it_is_touched() -> None:
    tasks = [task(1, "Kickoff"), task(2, "kickoff!")]
    projects = [project(1, "KICKOFF")]
    plan = plan_flow(PROJECT, tasks, projects)
    (found,) = plan.ambiguous
    assert (found.sf_ids, found.pms_ids) == (("00T000000000001", "00T000000000002"), ("prj_00001",))
    assert not plan.links and not plan.create_in_pms and not plan.create_in_sf
    assert plan.left_alone == 3


def test_duplicates_on_one_side_only_are_each_created() -> None:
    plan = plan_flow(PROJECT, [task(1, "Same"), task(2, "Same")], [])
    assert plan.create_in_pms == ["00T000000000001", "00T000000000002"]


def test_out_of_scope_and_the_syncs_own_records_are_left_alone_with_a_reason() -> None:
    tasks = [task(1, in_scope=False), task(2, by_sync_user=True), task(3, detached=True)]
    plan = plan_flow(PROJECT, tasks, [project(9, in_scope=False)])
    reasons = {left.id: left.reason for left in plan.left}
    assert reasons["00T000000000001"] == "out of the flow's Salesforce scope"
    assert reasons["00T000000000002"] == "last changed by the sync's own user"
    assert "link was removed" in reasons["00T000000000003"]
    assert reasons["prj_00009"] == "out of the flow's Custompms scope"
    assert not plan.has_work


def test_a_flow_that_never_creates_in_salesforce_leaves_unmatched_custompms_records() -> None:
    customer = PmsCandidate("cus_1", {"name": "Someone", "kind": "organization"})
    plan = plan_flow(ORG, [], [customer])
    assert plan.create_in_sf == []
    assert [left.reason for left in plan.left] == [
        "no match, and the flow creates nothing in Salesforce"
    ]


def test_records_without_a_complete_key_are_created_not_matched() -> None:
    undated = SfCandidate("00T1", {"Subject": "Task 1", "ActivityDate": None})
    plan = plan_flow(PROJECT, [undated], [project(1)])
    assert plan.create_in_pms == ["00T1"] and plan.create_in_sf == ["prj_00001"]


def test_a_linked_pair_reports_which_values_differ() -> None:
    left = task(1)
    right = PmsCandidate("prj_1", {"name": "TASK 1", "due_date": DAY, "status": "active"})
    plan = plan_flow(PROJECT, [left], [right])
    (line,) = [line for line in report_lines(PROJECT, plan) if line["decision"] == "link"]
    assert line["differences"]["status"] == {"salesforce": "planned", "custompms": "active"}
    assert line["differences"]["name"] == {"salesforce": "Task 1", "custompms": "TASK 1"}


def test_decisions_gather_every_flow_for_a_record() -> None:
    tasks = [task(1), task(2)]
    project_plan = plan_flow(PROJECT, tasks, [project(1)])
    task_plan = plan_flow(FLOWS["task_task"], tasks, [])
    sf, pms = decisions([(PROJECT, project_plan), (FLOWS["task_task"], task_plan)])
    assert sf["00T000000000001"].link == {"task_project": "prj_00001"}
    assert sf["00T000000000001"].create == ["task_task"]
    assert sf["00T000000000002"].create == ["task_project", "task_task"]
    assert pms[("project", "prj_00001")].link == {"task_project": "00T000000000001"}
    assert pms[("project", "prj_00001")].create == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=12),
    st.lists(st.sampled_from(["a", "b", "c", "e"]), max_size=12),
)
def test_every_record_gets_exactly_one_decision(sf_names: list[str], pms_names: list[str]) -> None:
    tasks = [task(i, name) for i, name in enumerate(sf_names)]
    projects = [project(i, name) for i, name in enumerate(pms_names)]
    plan = plan_flow(PROJECT, tasks, projects)
    seen_sf = [sf for sf, _ in plan.links] + plan.create_in_pms
    seen_sf += [i for a in plan.ambiguous for i in a.sf_ids]
    seen_pms = [pms for _, pms in plan.links] + plan.create_in_sf
    seen_pms += [i for a in plan.ambiguous for i in a.pms_ids]
    assert sorted(seen_sf) == sorted(t.id for t in tasks)
    assert sorted(seen_pms) == sorted(p.id for p in projects)
    # a planned pair's records share a name, and nobody is paired twice
    assert len({sf for sf, _ in plan.links}) == len(plan.links)
    assert plan_flow(PROJECT, list(reversed(tasks)), projects) == plan  # order does not matter
