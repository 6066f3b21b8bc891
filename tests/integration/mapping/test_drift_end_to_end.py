"""A picklist value an administrator added in Salesforce ("Escalated") does not stop the
sync: the worker starts with a warning, the record syncs, and the Status field follows
each row's policy: task_task's row (in a copy of the file) maps unknown values to its
default, task_project's row has none, so that field of that record goes to the dead-letter
topic with the value and what to add, and the metric counts it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from sfpms.embedded.broker import free_port
from sfpms.observe.deadletters import DeadLetterReader
from streams.engine.replay import load_link_table
from tests.integration.mapping.support import replace_once, shipped, write_copy
from tests.support.live import Live, eventually, live_stack

pytestmark = pytest.mark.integration

DEFAULTED = replace_once(
    shipped(),
    "          to_salesforce:\n            todo: Not Started",
    "          default: {to_custompms: blocked}\n"
    "          to_salesforce:\n            todo: Not Started",
    after="  - name: task_task\n",
)


@pytest.fixture(scope="module")
def live(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("drift")
    ports = {
        "cdc_metrics_port": free_port(),
        "sink_metrics_port": free_port(),
    }
    settings = {"mapping_file": write_copy(tmp, DEFAULTED), **ports}
    with live_stack(kafka_bootstrap, tmp, settings=settings, start=False) as running:
        running.sf.admin(
            "POST",
            "/picklist-values",
            json={"sobject": "Task", "field": "Status", "value": "Escalated"},
        )
        running.start_product(metrics=True)
        yield running


def linked(live: Live, sf_id: str, flow: str) -> dict[str, Any] | None:
    hub = load_link_table(live.settings).hubs.get(sf_id)
    link = hub.linked(flow) if hub is not None else None
    if link is None:
        return None
    resource = "projects" if flow == "task_project" else "tasks"
    with live.pms.http() as api:
        return dict(api.get(f"/{resource}/{link.pms_id}").json())


def unknown_values(live: Live) -> dict[tuple[str, str], float]:
    text = httpx.get(f"http://127.0.0.1:{live.workers[0].web_port}/metrics").text
    found: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "sfpms_mapping_unknown_values":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    found[(sample.labels["flow"], sample.labels["field"])] = sample.value
    return found


def test_the_worker_starts_and_warns_about_the_value_the_mapping_does_not_know(
    live: Live,
) -> None:
    log = live.workers[0].log_tail(20_000)
    assert "mapping drift" in log and "picklist value 'Escalated'" in log
    assert live.workers[0].process.alive()
    assert unknown_values(live).get(("task_project", "Status")) == 0.0


def test_a_task_with_the_new_value_syncs_and_its_status_follows_each_rows_policy(
    live: Live,
) -> None:
    task_id = live.sf_person().Task.create({"Subject": "Hot ticket", "Status": "Escalated"})["id"]
    project = eventually(lambda: linked(live, task_id, "task_project"), what="project")
    task = eventually(lambda: linked(live, task_id, "task_task"), what="Custompms task")
    assert (project["name"], project["status"]) == ("Hot ticket", "planned")  # left out
    assert (task["title"], task["status"]) == ("Hot ticket", "blocked")  # the row's default

    reader = DeadLetterReader(live.settings)
    try:

        def letter() -> Any:
            reader.poll(budget_s=1.0)
            return next(
                (e for e in reader.entries() if e.record == task_id and e.field == "Status"),
                None,
            )

        found = eventually(letter, what="the dead letter of the Status field")
    finally:
        reader.close()
    assert (found.flow, found.error_class) == ("task_project", "UnknownValue")
    assert "unknown value 'Escalated'" in found.reason
    assert "add it to `to_custompms` of the row at" in found.reason
    assert eventually(
        lambda: unknown_values(live).get(("task_project", "Status"), 0) >= 1, what="metric"
    )

    live.sf_person().Task.update(task_id, {"Status": "Completed"})
    eventually(
        lambda: (linked(live, task_id, "task_project") or {}).get("status") == "completed",
        what="a known value syncs again",
    )
    time.sleep(0.5)
    assert (linked(live, task_id, "task_task") or {}).get("status") == "done"
