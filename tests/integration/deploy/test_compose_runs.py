"""docker-compose.yml's sfpms services, run without Docker (compose_stack.py says what is
rewritten): each comes up healthy by its own healthcheck, and together they sync."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import httpx
import pytest

from tests.integration.deploy.compose_stack import SERVICES, ComposeStack

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_is_healthy_by_its_own_healthcheck(
    compose_stack: ComposeStack, name: str
) -> None:
    service = compose_stack.services[name]
    ok, output = service.healthy()
    assert ok, output
    url = compose_stack.url(name)
    assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    ready = httpx.get(f"{url}/readyz", timeout=5).json()
    assert ready["ready"] is True
    expected = {
        "cdc": {"broker", "registry", "salesforce", "custompms"},
        "worker": {"broker", "registry"},
        "sinks": {"broker", "registry", "salesforce", "custompms"},
        "dashboard": {"broker"},
    }[name]
    assert set(ready["checks"]) == expected
    assert set(ready["checks"].values()) == {"ok"}


def test_the_stack_syncs_a_salesforce_task_into_a_custompms_project(
    compose_stack: ComposeStack, synced_task: dict[str, Any]
) -> None:
    with compose_stack.live.pms.http() as api:
        project = api.get(f"/projects/{synced_task['project_id']}").json()
    assert (project["name"], project["status"], project["priority"]) == (
        "Compose smoke",
        "active",
        "high",
    )


def test_links_history_explains_who_set_what_and_what_the_sync_did(
    compose_stack: ComposeStack, synced_task: dict[str, Any]
) -> None:
    env = compose_stack.services["dashboard"].env
    done = subprocess.run(
        [sys.executable, "-m", "sfpms", "links", "history", synced_task["project_id"], "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    story = json.loads(done.stdout)
    assert story["salesforce"]["id"] == synced_task["task_id"]
    assert story["salesforce"]["known"]["Subject"] == "Compose smoke"
    project = next(link for link in story["links"] if link["flow"] == "task_project")
    assert project["custompms_id"] == synced_task["project_id"]
    assert project["state"] == "linked"
    winners = {row["field"]: row for row in story["provenance"]}
    assert winners["Subject"]["value"] == "Compose smoke"
    assert winners["Subject"]["side"] == "Salesforce"
    assert winners["Subject"]["who"] not in ("the sync", "")
    kinds = [event["kind"] for event in story["history"]]
    assert kinds[0] == "change", kinds
    assert {"change", "write", "result"} <= set(kinds)
    first = story["history"][0]["summary"]
    assert first.startswith(f"Salesforce Task {synced_task['task_id']} created by "), first
    results = [e for e in story["history"] if e["kind"] == "result"]
    assert any(
        e["detail"]["outcome"] == "ok" and e["detail"]["target_id"] == synced_task["project_id"]
        for e in results
    ), results
    text = subprocess.run(
        [sys.executable, "-m", "sfpms", "links", "history", synced_task["task_id"]],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert text.returncode == 0, text.stderr
    assert "who set each field" in text.stdout and "write applied" in text.stdout
