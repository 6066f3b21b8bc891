"""A custom field added only by editing a copy of the mapping file syncs both ways.

Salesforce declares Task.Region__c (a picklist), Custompms declares projects'
custom_fields.region (an enum); the only product change is one row in a copy of
config/mapping.yaml, selected with SFPMS_MAPPING_FILE. Real broker, both emulators over
HTTP, CDC, engine worker and sinks as processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from foundation.settings import settings_env
from tests.integration.mapping.support import (
    PMS_REGION,
    REGION_ROW,
    SF_REGION,
    add_rows,
    sf_custom_fields,
    shipped,
    write_copy,
)
from tests.support.live import Live, eventually, live_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def live(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("region")
    mapping = write_copy(tmp, add_rows(shipped(), "task_project", REGION_ROW))
    with live_stack(
        kafka_bootstrap,
        tmp,
        sf_config=sf_custom_fields(SF_REGION),
        pms_custom_fields=PMS_REGION,
        settings={"mapping_file": mapping},
    ) as running:
        yield running


def project_of(live: Live, sf_id: str) -> dict[str, Any] | None:
    from streams.engine.replay import load_link_table

    hub = load_link_table(live.settings).hubs.get(sf_id)
    link = hub.linked("task_project") if hub is not None else None
    if link is None or link.pms_id is None:
        return None
    with live.pms.http() as api:
        return dict(api.get(f"/projects/{link.pms_id}").json())


def sf_region(live: Live, task_id: str) -> str | None:
    soql = f"SELECT Region__c FROM Task WHERE Id = '{task_id}'"  # noqa: S608 - test-built SOQL
    rows = live.sf_admin().query(soql)["records"]
    return rows[0]["Region__c"] if rows else None


def test_a_task_created_with_a_region_creates_a_project_in_that_region(live: Live) -> None:
    task_id = live.sf_person().Task.create({"Subject": "Regional kickoff", "Region__c": "APAC"})[
        "id"
    ]
    project = eventually(lambda: project_of(live, task_id), what="project")
    assert project["custom_fields"]["region"] == "apac"

    with live.pms_person() as pms:
        pms.patch(f"/projects/{project['id']}", json={"custom_fields": {"region": "emea"}})
    eventually(lambda: sf_region(live, task_id) == "EMEA", what="region back in Salesforce")
    live.sf_person().Task.update(task_id, {"Region__c": "Americas"})
    eventually(
        lambda: (
            (project_of(live, task_id) or {}).get("custom_fields", {}).get("region") == "americas"
        ),
        what="region edited in Salesforce",
    )


def test_a_project_created_with_a_region_creates_a_task_in_that_region(live: Live) -> None:
    with live.pms_person() as pms:
        project = pms.post(
            "/projects", json={"name": "Born regional", "custom_fields": {"region": "americas"}}
        ).json()
    twins = eventually(
        lambda: live.sf_admin().query(
            f"SELECT Id, Region__c FROM Task WHERE Custompms_Id__c = '{project['id']}'"  # noqa: S608
        )["records"],
        what="Salesforce twin",
    )
    assert [t["Region__c"] for t in twins] == ["Americas"]
    with live.pms_person() as pms:
        pms.patch(f"/projects/{project['id']}", json={"custom_fields": {"region": "apac"}})
    eventually(lambda: sf_region(live, twins[0]["Id"]) == "APAC", what="edited region")


def test_replay_dry_run_with_a_new_file_shows_what_it_would_write_and_writes_nothing(
    live: Live, tmp_path: Path
) -> None:
    task_id = live.sf_person().Task.create({"Subject": "Replayed", "Region__c": "Americas"})["id"]
    project = eventually(lambda: project_of(live, task_id), what="project")
    assert project["custom_fields"]["region"] == "americas"
    # the new file sends Salesforce's Americas to Custompms' emea
    changed = add_rows(
        shipped(), "task_project", REGION_ROW.replace("Americas: americas", "Americas: emea")
    )
    new = write_copy(tmp_path, changed, "new.yaml")
    before = live.write_calls()
    env = {**os.environ, **settings_env(live.settings)}
    replay = ["replay", "--flow", "task_project", "--from-beginning", "--dry-run"]
    done = subprocess.run(
        [sys.executable, "-m", "sfpms", *replay, "--mapping", str(new)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    ours = [line for line in lines if line["record"] == project["id"]]
    assert ours and ours[-1]["fields"]["custom_fields.region"] == {"old": "americas", "new": "emea"}
    assert f"mapping {new}" in done.stderr
    assert live.write_calls() == before
    with live.pms.http() as api:
        assert api.get(f"/projects/{project['id']}").json()["custom_fields"]["region"] == "americas"
