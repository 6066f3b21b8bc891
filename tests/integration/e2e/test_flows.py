"""Every flow end to end: real broker, both emulators, CDC, engine worker and sinks as
real processes. People edit through the emulators' APIs; the test waits for both systems
to agree and checks the emulators' request counts for echo writes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from streams.engine.replay import load_link_table
from tests.support.live import Live, eventually, live_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def live(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_stack(kafka_bootstrap, tmp_path_factory.mktemp("e2e")) as running:
        yield running


def sf_task(live: Live, task_id: str) -> dict[str, Any]:
    records = live.sf_records("Task", f"WHERE Id = '{task_id}'")
    return records[0] if records else {}


def linked(live: Live, sf_id: str, flow: str) -> str | None:
    hubs = load_link_table(live.settings).hubs
    hub = hubs.get(sf_id) or next((h for h in hubs.values() if h.sf_id[:15] == sf_id[:15]), None)
    link = hub.linked(flow) if hub is not None else None
    return link.pms_id if link is not None else None


def pms_get(live: Live, resource: str, record_id: str) -> dict[str, Any]:
    with live.pms.http() as api:
        response = api.get(f"/{resource}/{record_id}")
        return dict(response.json()) if response.status_code == 200 else {}


def quiet_writes(live: Live, settle: float = 4.0) -> tuple[int, int]:
    """Wait until no write call happens for `settle` seconds; return the counts."""
    last = live.write_calls()
    quiet_since = time.monotonic()
    deadline = time.monotonic() + 90
    while time.monotonic() - quiet_since < settle and time.monotonic() < deadline:
        time.sleep(0.5)
        now = live.write_calls()
        if now != last:
            last, quiet_since = now, time.monotonic()
    return last


def test_task_created_in_salesforce_creates_project_and_task(live: Live) -> None:
    sf = live.sf_person()
    task_id = sf.Task.create(
        {
            "Subject": "Call Acme",
            "Status": "In Progress",
            "Priority": "High",
            "ActivityDate": "2026-12-01",
        }
    )["id"]
    project_id = eventually(lambda: linked(live, task_id, "task_project"), what="project link")
    pms_task_id = eventually(lambda: linked(live, task_id, "task_task"), what="task link")
    project = pms_get(live, "projects", project_id)
    assert (project["name"], project["status"], project["priority"], project["due_date"]) == (
        "Call Acme",
        "active",
        "high",
        "2026-12-01",
    )
    task = pms_get(live, "tasks", pms_task_id)
    assert (task["title"], task["status"], task["project_id"]) == (
        "Call Acme",
        "in_progress",
        project_id,
    )


def test_edits_flow_both_ways_and_echoes_write_nothing(live: Live) -> None:
    sf = live.sf_person()
    task_id = sf.Task.create({"Subject": "Echo check", "Priority": "Low"})["id"]
    project_id = eventually(lambda: linked(live, task_id, "task_project"), what="project")
    pms_task_id = eventually(lambda: linked(live, task_id, "task_task"), what="pms task")
    before = quiet_writes(live)

    sf.Task.update(task_id, {"Subject": "Edited in Salesforce"})
    eventually(
        lambda: pms_get(live, "projects", project_id).get("name") == "Edited in Salesforce",
        what="project renamed",
    )
    after_sf_edit = quiet_writes(live)
    # the person's own PATCH in Salesforce, one Custompms batch call per resource (the
    # Project, the Task) and nothing else: the echoes from both systems wrote nothing
    assert (after_sf_edit[0] - before[0], after_sf_edit[1] - before[1]) == (1, 2)

    with live.pms_person() as pms:
        pms.patch(f"/projects/{project_id}", json={"status": "on_hold", "priority": "high"})
    eventually(
        lambda: sf_task(live, task_id).get("Status") == "Waiting on someone else",
        what="status from the project",
    )
    # the Salesforce Task edited from its Project still updates its Custompms Task
    eventually(
        lambda: pms_get(live, "tasks", pms_task_id).get("status") == "blocked",
        what="task status",
    )
    assert sf_task(live, task_id)["Priority"] == "High"
    after_pms_edit = quiet_writes(live)
    # Salesforce: the conflict check (a Collections retrieve, a POST) and one update;
    # Custompms: the person's PATCH plus one batch call for the Custompms Task
    assert (after_pms_edit[0] - after_sf_edit[0], after_pms_edit[1] - after_sf_edit[1]) == (2, 2)


def test_project_created_in_custompms_creates_one_salesforce_task(live: Live) -> None:
    with live.pms_person() as pms:
        project = pms.post(
            "/projects", json={"name": "Born in Custompms", "priority": "low"}
        ).json()
    twins = eventually(
        lambda: live.sf_records("Task", f"WHERE Custompms_Id__c = '{project['id']}'"),
        what="Salesforce twin",
    )
    assert [(t["Subject"], t["Priority"]) for t in twins] == [("Born in Custompms", "Low")]
    quiet_writes(live)
    projects = [p for p in live.pms_records("projects") if p["name"] == "Born in Custompms"]
    assert len(projects) == 1, "the Salesforce twin must not create a Project back"
    assert not [t for t in live.pms_records("tasks") if t["title"] == "Born in Custompms"]


def test_customer_and_division_create_each_other(live: Live) -> None:
    with live.pms_person() as pms:
        customer = pms.post("/customers", json={"name": "Contoso"}).json()
    division = eventually(
        lambda: live.sf_records("Division", f"WHERE Custompms_Id__c = '{customer['id']}'"),
        what="division twin",
    )[0]
    assert (division["Name"], division["IsActive"]) == ("Contoso", True)
    eventually(
        lambda: pms_get(live, "customers", customer["id"]).get("kind") == "division",
        what="constant kind",
    )

    created = live.sf_admin().Division.create({"Name": "Nordics"})["id"]
    # the admin is the sync's own user: a record it makes is the sync's, not a person's
    quiet_writes(live)
    assert not [c for c in live.pms_records("customers") if c["name"] == "Nordics"]
    person_division = live.sf_person().Division.create({"Name": "Benelux"})["id"]
    customer_id = eventually(
        lambda: linked(live, person_division, "division_customer"), what="customer for the division"
    )
    assert pms_get(live, "customers", customer_id)["kind"] == "division"
    assert created


def test_organization_is_linked_to_one_customer_and_kept_in_sync(live: Live) -> None:
    org = live.sf_records("Organization")[0]
    customer_id = eventually(
        lambda: linked(live, org["Id"], "organization_customer"), what="organization link"
    )
    customer = pms_get(live, "customers", customer_id)
    assert (customer["name"], customer["kind"]) == (org["Name"], "organization")
    live.sf_person().Organization.update(org["Id"], {"Phone": "+47 22 00 00 00"})
    eventually(
        lambda: pms_get(live, "customers", customer_id).get("phone") == "+47 22 00 00 00",
        what="phone synced",
    )
    organizations = [c for c in live.pms_records("customers") if c["kind"] == "organization"]
    assert [c["id"] for c in organizations] == [customer_id]


def test_same_name_created_on_both_sides_at_once_ends_as_one_linked_pair(live: Live) -> None:
    with live.pms_person() as pms:
        customer = pms.post("/customers", json={"name": "Acme Holdings"}).json()
    division = live.sf_person().Division.create({"Name": "ACME  holdings"})["id"]

    def pair() -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
        divisions = [
            d
            for d in live.sf_records("Division")
            if d["Name"].lower().split() == ["acme", "holdings"]
        ]
        customers = [
            c
            for c in live.pms_records("customers")
            if c["name"].lower().split() == ["acme", "holdings"]
        ]
        linked_ids = {linked(live, d["Id"], "division_customer") for d in divisions}
        return (divisions, customers) if linked_ids == {c["id"] for c in customers} else None

    eventually(pair, timeout=90, what="one linked pair")
    quiet_writes(live)
    divisions, customers = eventually(pair, what="stable pair")
    assert len(divisions) == 1 and len(customers) == 1, (divisions, customers)
    assert customers[0]["id"] == customer["id"]
    assert divisions[0]["Id"][:15] == division[:15]


def test_concurrent_edits_converge_to_the_later_edit_with_provenance(live: Live) -> None:
    sf = live.sf_person()
    task_id = sf.Task.create({"Subject": "Race"})["id"]
    project_id = eventually(lambda: linked(live, task_id, "task_project"), what="project")
    quiet_writes(live)
    sf.Task.update(task_id, {"Subject": "Salesforce says"})
    time.sleep(0.05)
    with live.pms_person() as pms:
        pms.patch(f"/projects/{project_id}", json={"name": "Custompms says"})
    eventually(
        lambda: (
            sf_task(live, task_id).get("Subject") == "Custompms says"
            and pms_get(live, "projects", project_id).get("name") == "Custompms says"
        ),
        what="both sides on the later edit",
    )
    quiet_writes(live)
    hubs = load_link_table(live.settings).hubs
    hub = next(h for h in hubs.values() if h.sf_id[:15] == task_id[:15])
    assert (hub.winners["Subject"].source, hub.winners["Subject"].value) == (
        "task_project",
        "Custompms says",
    )


def test_deletes_follow_each_flows_policy(live: Live) -> None:
    sf = live.sf_person()
    task_id = sf.Task.create({"Subject": "To be deleted"})["id"]
    project_id = eventually(lambda: linked(live, task_id, "task_project"), what="project")
    pms_task_id = eventually(lambda: linked(live, task_id, "task_task"), what="pms task")
    sf.Task.delete(task_id)
    eventually(
        lambda: pms_get(live, "projects", project_id).get("status") == "cancelled",
        what="project cancelled",
    )
    eventually(lambda: pms_get(live, "tasks", pms_task_id) == {}, what="pms task deleted")

    other = sf.Task.create({"Subject": "Project goes away"})["id"]
    other_project = eventually(lambda: linked(live, other, "task_project"), what="project 2")
    eventually(lambda: linked(live, other, "task_task"), what="task 2")
    with live.pms_person() as pms:
        assert (
            pms.delete(f"/projects/{other_project}", params={"cascade": "true"}).status_code == 204
        )
    time.sleep(3)
    quiet_writes(live)
    assert sf_task(live, other)["Subject"] == "Project goes away"  # unlinked, not deleted
    assert not [p for p in live.pms_records("projects") if p["name"] == "Project goes away"]
