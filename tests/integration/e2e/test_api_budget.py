"""The daily API budget end to end: a small allowance in the emulator, the sync pauses at its
reserve (CDC and sinks alike), says so on /metrics and in `sfpms status --json`, resumes by
itself when the rolling window frees calls, and loses nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from foundation.kafka import topics as t
from foundation.settings import get_settings, settings_env
from sfpms.cli import cli
from tests.faults.stack import FaultStack, fault_stack
from tests.integration.e2e.test_flows import linked, pms_get
from tests.support.kafka import TopicReader
from tests.support.live import Live, eventually

pytestmark = pytest.mark.integration
LIMIT = 2_000
SHARE = 1_600  # the default reserve: 20 %
PROBE_S = 1.0


@pytest.fixture
def stack(kafka_bootstrap: str, tmp_path: Path) -> Iterator[FaultStack]:
    update = {"salesforce_api_probe_s": PROBE_S}
    with fault_stack(kafka_bootstrap, tmp_path, settings_update=update) as running:
        yield running


def paused(url: str) -> float | None:
    text = httpx.get(url, timeout=5).text
    for family in text_string_to_metric_families(text):
        if family.name == "sfpms_api_budget_paused":
            for sample in family.samples:
                if sample.labels.get("system") == "salesforce":
                    return float(sample.value)
    return None


def _usage(live: Live) -> int:
    """The org's API calls in the window, as the emulator counts them."""
    usage: dict[str, int] = live.sf.admin("GET", "/info")["api_usage"]
    return usage["Max"] - usage["Remaining"]


def status_json(live: Live) -> dict[str, Any]:
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["status", "--json"], env=settings_env(live.settings))
    finally:
        get_settings.cache_clear()
    start = result.output.index("{")
    body: dict[str, Any] = json.loads(result.output[start:])
    return body


def test_the_sync_pauses_at_its_reserve_shows_it_and_resumes_when_the_window_frees(
    stack: FaultStack,
) -> None:
    live = stack.live
    cdc_metrics = f"http://127.0.0.1:{live.settings.cdc_metrics_port}/metrics"
    sink_metrics = f"http://127.0.0.1:{live.settings.sink_metrics_port}/metrics"
    person = live.sf_person()
    task_id = person.Task.create({"Subject": "Before the limit"})["id"]
    project_id = eventually(lambda: linked(live, task_id, "task_project"), what="project")

    # The org has spent its allowance down to the sync's share (other integrations). Each
    # process learns it from the next answer it gets (Sforce-Limit-Info), then pauses.
    live.sf.admin("POST", "/limits", json={"used": SHARE, "limit": LIMIT})
    person.Task.update(task_id, {"Subject": "Edited at the limit"})  # people may go on
    with live.pms_person() as pms:
        pms.post("/projects", json={"name": "Made at the limit"}).raise_for_status()
    eventually(
        lambda: paused(cdc_metrics) == 1.0 and paused(sink_metrics) == 1.0,
        timeout=90,
        what="the CDC and the sinks paused",
    )
    # Paused: these wait, they are not lost.
    person.Task.update(task_id, {"Subject": "Edited while paused"})
    with live.pms_person() as pms:
        waiting = pms.post("/projects", json={"name": "Made while paused"}).json()["id"]
    shown = status_json(live)["api_budget"]["salesforce"]
    assert shown["state"] == "paused: API budget"
    assert set(shown["paused_in"]) == {"cdc", "sinks"}
    assert shown["limit"] == LIMIT and shown["reserve"] == LIMIT - SHARE
    spent = _usage(live)
    time.sleep(6 * PROBE_S)
    # While paused the sync only reads /limits: once per probe interval and process.
    assert _usage(live) - spent <= 2 * 7
    assert pms_get(live, "projects", project_id)["name"] != "Edited while paused"
    assert not live.sf_records("Task", f"WHERE Custompms_Id__c = '{waiting}'")

    live.sf.admin("POST", "/limits/reset")  # the rolling window frees its calls
    eventually(
        lambda: pms_get(live, "projects", project_id).get("name") == "Edited while paused",
        timeout=90,
        what="the edit made while paused, synced after the pause",
    )
    eventually(
        lambda: live.sf_records("Task", f"WHERE Custompms_Id__c = '{waiting}'"),
        timeout=90,
        what="the Salesforce Task of the project made while paused",
    )
    eventually(
        lambda: paused(cdc_metrics) == 0.0 and paused(sink_metrics) == 0.0,
        what="the pause lifted",
    )
    assert status_json(live)["api_budget"]["salesforce"]["state"] == "ok"
    assert len(live.sf_records("Task", "WHERE Subject = 'Made while paused'")) == 1
    letters = TopicReader(live.settings, t.DEADLETTER)
    assert letters.drain(2.0) == [], "the pause dead-lettered something"
    letters.close()
