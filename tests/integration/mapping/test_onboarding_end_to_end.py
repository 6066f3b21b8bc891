"""Onboarding an org that already has records, end to end.

Seeded before the sync first starts: 1,000 Salesforce Tasks and 300 Custompms Projects,
200 of which match a Task by subject and due date. Then:
1. the first start creates nothing in bulk (the records predate the sync);
2. `sfpms onboard --dry-run --out report.jsonl` reports the exact counts and writes nothing;
3. `sfpms onboard` links the 200 (the newer record's values win) and creates only the rest;
4. a second run does nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulators.salesforce.config import ALICE_USER
from foundation.settings import settings_env
from streams.engine.replay import load_link_table
from tests.support.live import Live, eventually, live_stack

pytestmark = pytest.mark.integration

TASKS, PROJECTS, MATCHING = 1000, 300, 200
DUE = "2026-09-15"


def seed(live: Live) -> dict[int, str]:
    """The org's history: Tasks made by a person, Projects made by a person."""
    records = [
        {"Subject": f"Onboarding task {i}", "ActivityDate": DUE, "Status": "In Progress"}
        for i in range(TASKS)
    ]
    live.sf.bulk("Task", records, as_user=ALICE_USER[0])
    projects: dict[int, str] = {}
    with live.pms_person() as pms:
        names = [f"ONBOARDING TASK {i}" for i in range(MATCHING)]  # same key, other case
        names += [f"Project only {i}" for i in range(PROJECTS - MATCHING)]
        for start in range(0, PROJECTS, 100):
            operations = [
                {"op": "create", "data": {"name": name, "due_date": DUE, "status": "planned"}}
                for name in names[start : start + 100]
            ]
            response = pms.post("/projects/batch", json={"operations": operations})
            response.raise_for_status()
            for offset, item in enumerate(response.json()["results"]):
                projects[start + offset] = item["record"]["id"]
    return projects


@pytest.fixture(scope="module")
def onboarding(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Live, dict[int, str]]]:
    tmp = tmp_path_factory.mktemp("onboarding")
    with live_stack(kafka_bootstrap, tmp, start=False) as live:
        projects = seed(live)
        time.sleep(1.1)  # the first start comes strictly after the seeded records
        live.start_product()
        yield live, projects


def sfpms(live: Live, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings_env(live.settings)}
    return subprocess.run(
        [sys.executable, "-m", "sfpms", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def counts(live: Live) -> tuple[int, int, int]:
    """(Salesforce Tasks, Custompms Projects, Custompms Tasks)."""
    return (
        len(live.sf_records("Task")),
        len(live.pms_records("projects")),
        len(live.pms_records("tasks")),
    )


def quiet(live: Live, settle: float = 5.0) -> tuple[int, int]:
    last, since = live.write_calls(), time.monotonic()
    deadline = time.monotonic() + 180
    while time.monotonic() - since < settle and time.monotonic() < deadline:
        time.sleep(0.5)
        now = live.write_calls()
        if now != last:
            last, since = now, time.monotonic()
    return last


def summary(output: str, flow: str) -> list[str]:
    lines = output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(f"{flow} ("))
    return [line.strip() for line in lines[at + 1 : at + 5]]


def test_the_first_start_creates_nothing_in_bulk(onboarding: tuple[Live, dict[int, str]]) -> None:
    live, _projects = onboarding
    eventually(
        lambda: (
            sum(1 for h in load_link_table(live.settings).hubs.values() if h.sf_object == "Task")
            >= TASKS
        ),
        timeout=180,
        what="the engine has seen every Task",
    )
    quiet(live)
    assert counts(live) == (TASKS, PROJECTS, 0)


def test_the_dry_run_reports_exact_counts_and_writes_nothing(
    onboarding: tuple[Live, dict[int, str]], tmp_path: Path
) -> None:
    live, _projects = onboarding
    before = quiet(live)
    report = tmp_path / "report.jsonl"
    done = sfpms(live, "onboard", "--dry-run", "--out", str(report))
    assert done.returncode == 0, done.stderr[-3000:]
    assert summary(done.stdout, "task_project") == [
        "would link 200 pairs",
        "ambiguous matches: 0",
        "would create 800 in Custompms and 100 in Salesforce",
        "would leave 0 alone (0 already linked)",
    ]
    assert summary(done.stdout, "task_task")[0] == "would link 0 pairs"
    assert (
        summary(done.stdout, "task_task")[2] == "would create 1000 in Custompms and 0 in Salesforce"
    )
    assert "dry run: nothing was written" in done.stdout
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    decided: dict[str, int] = {}
    for line in lines:
        if line["flow"] == "task_project":
            decided[line["decision"]] = decided.get(line["decision"], 0) + 1
    assert decided == {"link": 200, "create_in_custompms": 800, "create_in_salesforce": 100}
    assert all(line["reason"] for line in lines)
    time.sleep(3)
    assert live.write_calls() == before
    assert counts(live) == (TASKS, PROJECTS, 0)


def test_onboarding_links_the_matches_creates_the_rest_and_a_second_run_does_nothing(
    onboarding: tuple[Live, dict[int, str]],
) -> None:
    live, projects = onboarding
    done = sfpms(live, "onboard")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "published" in done.stdout
    expected = (TASKS + PROJECTS - MATCHING, TASKS + PROJECTS - MATCHING, TASKS)
    eventually(lambda: counts(live) == expected, timeout=300, what=f"counts {expected}")
    quiet(live)
    assert counts(live) == expected, "nothing was created twice"
    tables = load_link_table(live.settings)
    linked_to_seeded = {
        link.pms_id
        for hub in tables.hubs.values()
        if (link := hub.linked("task_project")) is not None
    } & set(projects.values())
    assert len(linked_to_seeded) == PROJECTS, "every seeded Project is linked (200 + 100)"
    by_name = {p["id"]: p for p in live.pms_records("projects")}
    matched = [by_name[projects[i]] for i in range(MATCHING)]
    # The Projects were made after the Tasks: where a pair differs, the newer record wins
    # (the rule for every match), so the Tasks take the Projects' names, not the reverse.
    newer = {f"ONBOARDING TASK {i}" for i in range(MATCHING)}
    assert {p["name"] for p in matched} == newer
    eventually(
        lambda: newer <= {task["Subject"] for task in live.sf_records("Task")},
        what="the Tasks take the newer Projects' names",
    )

    before = quiet(live)
    again = sfpms(live, "onboard")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "nothing to do" in again.stdout
    assert quiet(live) == before
    assert counts(live) == expected
