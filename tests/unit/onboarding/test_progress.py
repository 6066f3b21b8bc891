"""`sfpms onboard`'s plan to envelopes, and its progress file (resume, finish)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from connectors.cdc.reader import Captured
from sfpms.onboarding.publish import ProgressFile, items
from sfpms.onboarding.survey import Survey, plan_all
from streams.core.hub import Hub, PmsLink
from streams.core.routes import Route
from streams.mapping.flows import FLOWS

DAY = dt.date(2026, 6, 1)


def _task(i: int, person: str = "005PERSON") -> Captured:
    raw = {"Id": f"00T{i:015d}", "Subject": f"T {i}", "ActivityDate": "2026-06-01"}
    record = {**raw, "ActivityDate": DAY, "LastModifiedById": person}
    return Captured(raw, record, {})


def _project(i: int) -> Captured:
    raw = {"id": f"prj_{i}", "name": f"t {i}", "due_date": "2026-06-01", "version": 1}
    return Captured(raw, {**raw, "due_date": DAY}, {})


def survey() -> Survey:
    found = Survey(FLOWS, sync_user="005SYNC")
    found.sf["Task"] = [_task(1), _task(2), _task(3, person="005SYNC")]
    found.pms["project"] = [_project(1), _project(9)]
    found.pms["task"] = []
    return found


def test_the_plan_becomes_one_envelope_per_decided_record_with_its_decision() -> None:
    planned = plan_all(survey(), hubs={}, routes={})
    by_key = {item.key: item for item in items(planned)}
    first = by_key["salesforce/Task/00T000000000000001"]
    assert dict(first.link) == {"task_project": "prj_1"}
    assert first.create == ("task_task",)
    assert by_key["salesforce/Task/00T000000000000002"].create == ("task_project", "task_task")
    assert "salesforce/Task/00T000000000000003" not in by_key  # the sync's own user
    assert by_key["custompms/project/prj_9"].create == ("task_project",)
    emission = by_key["custompms/project/prj_9"].emission(
        "run1", "005SYNC", dt.datetime.now(dt.UTC)
    )
    assert emission.value["source"]["onboarding"] == {
        "run": "run1",
        "link": {},
        "create": ["task_project"],
    }
    assert emission.value["op"] == "r"


def test_linked_records_produce_nothing_so_a_second_run_publishes_nothing() -> None:
    hubs = {}
    for captured in survey().sf["Task"]:
        hub = Hub(captured.id, "Task")
        for flow in ("task_project", "task_task"):
            hub.links[flow] = PmsLink(flow, "linked", f"x-{flow}-{captured.id}")
        hubs[captured.id] = hub
    routes = {"prj_1": Route("linked", "00T1", "task_project")}
    routes["prj_9"] = Route("linked", "00T9", "task_project")
    assert items(plan_all(survey(), hubs=hubs, routes=routes)) == []


def test_an_unfinished_run_resumes_with_its_id_and_what_it_published(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    first = ProgressFile(path, "digest-a")
    first.done.update({"salesforce/Task/1", "salesforce/Task/2"})
    first.save()
    again = ProgressFile(path, "digest-a")
    assert (again.resumed, again.run, again.done) == (True, first.run, first.done)
    other_mapping = ProgressFile(path, "digest-b")
    assert not other_mapping.resumed and other_mapping.done == set()
    again.save(finished=True)
    assert not ProgressFile(path, "digest-a").resumed
