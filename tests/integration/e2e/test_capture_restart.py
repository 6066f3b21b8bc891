"""The Change Data Capture process killed (SIGKILL) mid-stream: it resumes after the stored
replay id, the end state is exact, and no Custompms record is written twice for one edit."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from foundation.kafka import topics as t
from tests.integration.e2e.test_flows import linked, pms_get
from tests.support.kafka import TopicReader
from tests.support.live import Live, eventually, live_stack

pytestmark = pytest.mark.integration
TASKS = 12


@pytest.fixture
def live(kafka_bootstrap: str, tmp_path: Any) -> Iterator[Live]:
    with live_stack(kafka_bootstrap, tmp_path) as running:
        yield running


def _updates(commands: list[dict[str, Any]]) -> Counter[str]:
    """Project update ops per target record (a command may carry other flows' ops too)."""
    seen: Counter[str] = Counter()
    for command in commands:
        for op in command["ops"]:
            if op["entity"] == "project" and op["action"] == "update" and op.get("target_id"):
                seen[str(op["target_id"])] += 1
    return seen


def _linked(live: Live, task_id: str) -> Callable[[], str | None]:
    return lambda: linked(live, task_id, "task_project")


def _named(live: Live, project_id: str, name: str) -> Callable[[], bool]:
    return lambda: pms_get(live, "projects", project_id).get("name") == name


def _restart_cdc(live: Live, kill_point: str | None) -> None:
    live.processes["cdc"].stop(grace=15)
    settings = live.settings.model_copy(update={"kill_point": kill_point})
    original, live.settings = live.settings, settings
    try:
        live.start_process(
            "cdc", "cdc", "run", "--poll-interval", "0.3", "--idle-poll-interval", "1"
        )
    finally:
        live.settings = original


def test_a_killed_capture_resumes_with_the_exact_end_state_and_no_duplicate_write(
    live: Live,
) -> None:
    person = live.sf_person()
    ids = [person.Task.create({"Subject": f"Kill {n}"})["id"] for n in range(TASKS)]
    projects = {i: eventually(_linked(live, i), what="project") for i in ids}
    writes = TopicReader(live.settings, t.writes_topic("custompms"))
    changes = TopicReader(live.settings, t.changes_topic("salesforce", "task"))
    baseline = len(writes.drain(2.0))  # the creates
    # Armed: the capture dies by SIGKILL the first time it has published a batch and before
    # it stores the batch's replay id, the worst moment (published, not recorded).
    _restart_cdc(live, "cdc.after_publish@1")
    for n, task_id in enumerate(ids):
        person.Task.update(task_id, {"Subject": f"Kill {n} edited"})
        time.sleep(0.05)
    process = live.processes["cdc"]
    eventually(lambda: not process.alive(), timeout=60, what="the capture killing itself")
    assert process.returncode() == -9
    _restart_cdc(live, None)
    for n, task_id in enumerate(ids):
        eventually(_named(live, projects[task_id], f"Kill {n} edited"), what=f"task {n} edited")
    # Then an outside kill -9 in the middle of more edits.
    for n, task_id in enumerate(ids[: TASKS // 2]):
        person.Task.update(task_id, {"Subject": f"Kill {n} twice"})
    live.processes["cdc"].kill()
    _restart_cdc(live, None)
    for n, task_id in enumerate(ids[: TASKS // 2]):
        eventually(_named(live, projects[task_id], f"Kill {n} twice"), what=f"task {n} twice")
    time.sleep(3)  # anything re-published after the restarts has been processed by now
    updates = _updates(writes.drain(2.0)[baseline:])
    writes.close()
    edited = Counter(
        e["source"]["id"]
        for e in changes.drain(2.0)
        if (e.get("after") or {}).get("Subject", "").endswith(" edited")
    )
    changes.close()
    # The batch published just before the kill was published again after the restart...
    assert max(edited.values()) >= 2, edited
    # ...and still every edit was written exactly once.
    expected = {projects[i]: 2 if n < TASKS // 2 else 1 for n, i in enumerate(ids)}
    assert dict(updates) == expected, "a re-published change was written twice"
    for n, task_id in enumerate(ids):
        subject = f"Kill {n} twice" if n < TASKS // 2 else f"Kill {n} edited"
        assert pms_get(live, "projects", projects[task_id])["name"] == subject
