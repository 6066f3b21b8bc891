"""Scope per flow, end to end: the Task flows of a copy of the mapping take only meetings
(`Type = 'Meeting'`, a SOQL condition Salesforce evaluates at capture). A logged call
creates nothing; edited into a meeting, it is created; a Project outside the Custompms
filter creates nothing either. Also: the capture's scope tags come from Salesforce."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.cdc.scope import Condition, ScopeTagger, check_condition
from connectors.salesforce import SalesforceClient
from streams.engine.replay import load_link_table
from tests.integration.mapping.support import shipped, write_copy
from tests.integration.salesforce.support import running_salesforce
from tests.support.live import Live, eventually, live_stack

pytestmark = pytest.mark.integration

MEETINGS = "    scope:\n      salesforce: \"Type = 'Meeting'\"\n      when_leaving: keep\n"
OPEN_PROJECTS = "      custompms: {status: [planned, active]}\n"
# task_project (first) takes meetings and open Projects; task_task (second) meetings only
SCOPED = (
    shipped()
    .replace(
        "    scope: {when_leaving: keep}\n",
        MEETINGS.replace("      when_leaving", OPEN_PROJECTS + "      when_leaving"),
        1,
    )
    .replace("    scope: {when_leaving: keep}\n", MEETINGS, 1)
)


@pytest.fixture(scope="module")
def live(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("scope")
    settings = {"mapping_file": write_copy(tmp, SCOPED)}
    with live_stack(kafka_bootstrap, tmp, settings=settings) as running:
        yield running


def links(live: Live, sf_id: str) -> set[str]:
    hub = load_link_table(live.settings).hubs.get(sf_id)
    return {name for name in ("task_project", "task_task") if hub and hub.linked(name)}


def test_an_out_of_scope_task_creates_nothing_and_edited_into_scope_it_is_created(
    live: Live,
) -> None:
    sf = live.sf_person()
    call = sf.Task.create({"Subject": "Logged call", "Type": "Call"})["id"]
    meeting = sf.Task.create({"Subject": "Kickoff meeting", "Type": "Meeting"})["id"]
    eventually(lambda: links(live, meeting) == {"task_project", "task_task"}, what="meeting")
    time.sleep(2)  # the call was captured with the meeting: it has had its chance
    assert links(live, call) == set()
    names = [p["name"] for p in live.pms_records("projects")]
    assert "Logged call" not in names and "Kickoff meeting" in names

    sf.Task.update(call, {"Type": "Meeting"})
    eventually(lambda: links(live, call) == {"task_project", "task_task"}, what="edited in")


def test_a_project_outside_the_custompms_filter_creates_no_task_until_it_enters(
    live: Live,
) -> None:
    with live.pms_person() as pms:
        project = pms.post("/projects", json={"name": "Parked", "status": "on_hold"}).json()

    def twins() -> list[object]:
        soql = f"SELECT Id FROM Task WHERE Custompms_Id__c = '{project['id']}'"  # noqa: S608
        return list(live.sf_admin().query(soql)["records"])

    time.sleep(3)
    assert twins() == []
    with live.pms_person() as pms:
        pms.patch(f"/projects/{project['id']}", json={"status": "active"})
    assert len(eventually(twins, what="the Salesforce twin")) == 1


async def test_salesforce_evaluates_the_scope_condition_for_each_captured_page(
    tmp_path: Path,
) -> None:
    with running_salesforce(tmp_path / "tls") as sf:
        ids = sf.bulk(
            "Task",
            [{"Subject": f"t{i}", "Type": "Meeting" if i % 3 == 0 else "Call"} for i in range(30)],
        )
        settings = sf.settings(data_dir=tmp_path)
        condition = Condition("task_project", "Task", "Type = 'Meeting'")
        async with SalesforceClient(settings) as client:
            tagger = ScopeTagger(client, {"Task": (condition,)})
            tags = await tagger.tag("Task", ids)
            bad = await check_condition(client, Condition("x", "Task", "Typo__c = 1"))
    assert [i for i, record_id in enumerate(ids) if tags[record_id]["task_project"]] == list(
        range(0, 30, 3)
    )
    assert tagger.queries == 1
    assert bad is not None and "Salesforce refuses the scope condition of flow x" in bad
