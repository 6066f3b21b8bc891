"""Replay over real topics: unchanged history writes nothing; a dry run writes nothing and
reports the right diff; after a mapping change exactly the changed records are written."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from click.testing import CliRunner

from foundation.settings import settings_env
from sfpms.cli import cli
from streams.core.rules import Rules
from streams.engine.replay import Replay, ReplayRange
from streams.mapping.flows import FLOWS
from tests.integration.e2e.test_flows import linked, quiet_writes
from tests.support.flows import normal_becomes_low
from tests.support.live import Live, eventually, live_stack

pytestmark = pytest.mark.integration
PRIORITIES = ["High", "Normal", "Low", "Normal", "Normal"]


@pytest.fixture(scope="module")
def live(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_stack(kafka_bootstrap, tmp_path_factory.mktemp("replay")) as running:
        sf = running.sf_person()
        ids = [
            sf.Task.create({"Subject": f"Replay {i}", "Priority": p})["id"]
            for i, p in enumerate(PRIORITIES)
        ]
        for task_id in ids:
            eventually(partial(linked, running, task_id, "task_task"), what="synced")
        quiet_writes(running)
        yield running


def test_replaying_unchanged_history_writes_nothing(live: Live) -> None:
    before = live.write_calls()
    summary = Replay(live.settings, FLOWS["task_project"], Rules(FLOWS)).run(
        ReplayRange(from_beginning=True), dry_run=False
    )
    assert summary.changes >= len(PRIORITIES)
    assert (summary.fields, len(summary.records)) == (0, 0)
    assert quiet_writes(live) == before


def test_dry_run_reports_the_diff_of_a_mapping_change_and_writes_nothing(live: Live) -> None:
    before = live.write_calls()
    flow = normal_becomes_low()
    out = io.StringIO()
    summary = Replay(live.settings, flow, Rules({**FLOWS, flow.name: flow})).run(
        ReplayRange(from_beginning=True), dry_run=True, diff_out=out
    )
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    normal_projects = {
        p["id"] for p in live.pms_records("projects") if p["name"].startswith("Replay")
        and p["priority"] == "medium"
    }  # fmt: skip
    assert {line["record"] for line in lines} == normal_projects
    assert all(line["fields"] == {"priority": {"old": "medium", "new": "low"}} for line in lines)
    assert (summary.fields, len(summary.records)) == (3, 3)
    assert quiet_writes(live) == before


def test_replay_cli_dry_run_prints_the_diff(live: Live) -> None:
    result = CliRunner().invoke(
        cli,
        ["replay", "--flow", "task_task", "--from-beginning", "--dry-run"],
        env=settings_env(live.settings),
    )
    assert result.exit_code == 0, result.output
    assert "changes replayed; 0 records, 0 fields would be written" in result.output


def test_replay_after_a_mapping_change_writes_exactly_the_changed_records(live: Live) -> None:
    for worker in live.workers:  # "deploying the new mapping": the old engine must not fight it
        worker.stop()
    before = live.write_calls()
    head = _feed(live, 0)[-1]["seq"]
    flow = normal_becomes_low()
    summary = Replay(live.settings, flow, Rules({**FLOWS, flow.name: flow})).run(
        ReplayRange(from_beginning=True), dry_run=False
    )
    assert (summary.fields, len(summary.records)) == (3, 3)

    def priorities() -> dict[str, str] | None:
        found = {
            p["name"]: p["priority"]
            for p in live.pms_records("projects")
            if p["name"].startswith("Replay")
        }
        return found if sorted(found.values()).count("low") == 4 else None

    found = eventually(priorities, what="normal priorities rewritten")
    assert found == {
        f"Replay {i}": {"High": "high", "Normal": "low", "Low": "low"}[p]
        for i, p in enumerate(PRIORITIES)
    }
    after = quiet_writes(live)
    assert after[0] == before[0], "nothing is written to Salesforce"
    written = [(c["op"], c["record"]["name"]) for c in _feed(live, head) if c["actor"] == "sfpms"]
    normal = [f"Replay {i}" for i, p in enumerate(PRIORITIES) if p == "Normal"]
    assert sorted(written) == [("update", name) for name in normal], "each changed record once"
    # In one batch call when the three commands meet in one sink batch; under load the
    # sink's batching window may close between them.
    assert 1 <= after[1] - before[1] <= len(normal)


def _feed(live: Live, after: int) -> list[dict[str, Any]]:
    """The Custompms change feed after `after` (the test's data set is small)."""
    entries: list[dict[str, Any]] = []
    with live.pms.http() as api:
        while True:
            page = api.get("/changes", params={"after": after, "limit": 1000}).json()
            if not page["changes"]:
                return entries
            entries += page["changes"]
            after = page["next"]
