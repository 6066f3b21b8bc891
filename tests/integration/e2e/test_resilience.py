"""Killed workers and malformed input, end to end: nothing lost, nothing duplicated,
bad records dead-lettered while the rest keeps flowing."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Producer

from foundation.kafka import topics as t
from sfpms.deadletters import read_dead_letters
from tests.support.live import Live, eventually, live_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def live(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_stack(kafka_bootstrap, tmp_path_factory.mktemp("resilience")) as running:
        yield running


def create_tasks(live: Live, prefix: str, count: int) -> list[str]:
    """Tasks made by a person through sObject Collections (200 per call)."""
    sf = live.sf_person()
    records = [
        {"attributes": {"type": "Task"}, "Subject": f"{prefix} {i:03d}"} for i in range(count)
    ]
    results = sf.restful(
        "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
    )
    return [r["id"] for r in results]


def projects_named(live: Live, prefix: str) -> Counter[str]:
    return Counter(p["name"] for p in live.pms_records("projects") if p["name"].startswith(prefix))


def tasks_named(live: Live, prefix: str) -> Counter[str]:
    return Counter(
        t_["title"] for t_ in live.pms_records("tasks") if t_["title"].startswith(prefix)
    )


def test_engine_worker_killed_mid_batch_loses_and_duplicates_nothing(live: Live) -> None:
    create_tasks(live, "Kill engine", 120)
    eventually(lambda: projects_named(live, "Kill engine"), what="first projects")
    live.workers[0].kill()
    time.sleep(1)
    live.workers[0].start()
    expected = {f"Kill engine {i:03d}" for i in range(120)}
    eventually(
        lambda: set(tasks_named(live, "Kill engine")) == expected,
        timeout=120,
        what="every task synced after the restart",
    )
    assert set(projects_named(live, "Kill engine")) == expected
    assert max(projects_named(live, "Kill engine").values()) == 1, "a project was created twice"
    assert max(tasks_named(live, "Kill engine").values()) == 1, "a task was created twice"


def test_sink_worker_killed_mid_batch_loses_and_duplicates_nothing(live: Live) -> None:
    create_tasks(live, "Kill sink", 120)
    eventually(lambda: projects_named(live, "Kill sink"), what="first projects")
    sinks = live.processes["sinks"]
    sinks.kill()
    sinks.start()
    expected = {f"Kill sink {i:03d}" for i in range(120)}
    eventually(
        lambda: set(tasks_named(live, "Kill sink")) == expected,
        timeout=120,
        what="every task synced after the sink restart",
    )
    assert max(projects_named(live, "Kill sink").values()) == 1
    assert max(tasks_named(live, "Kill sink").values()) == 1


def test_malformed_input_is_dead_lettered_and_the_rest_keeps_flowing(live: Live) -> None:
    settings = live.settings
    producer = Producer(settings.producer_config())
    producer.produce(settings.topic(t.writes_topic("custompms")), key=b"x", value=b"\x00garbage")
    producer.produce(
        settings.topic(t.changes_topic("salesforce", "task")), key=b"y", value=b"not avro"
    )
    assert producer.flush(15) == 0
    with live.pms_person() as pms:
        too_long = pms.post("/customers", json={"name": "N" * 200}).json()
        fine = pms.post("/customers", json={"name": "Fine Customer"}).json()
    eventually(
        lambda: live.sf_records("Division", f"WHERE Custompms_Id__c = '{fine['id']}'"),
        what="the good customer still syncs",
    )

    def letters() -> list[dict[str, object]] | None:
        found = [r for _p, _o, r in read_dead_letters(settings)]
        stages = {(r["stage"], r.get("record")) for r in found}
        wanted = {("sink", "x"), ("engine", "y"), ("engine", too_long["id"])}
        return found if wanted <= stages else None

    found = eventually(letters, what="three dead letters")
    mapping = next(r for r in found if r.get("record") == too_long["id"])
    assert mapping["flow"] == "division_customer"
    assert "Name" in str(mapping["reason"]) and "80" in str(mapping["reason"])
    assert not live.sf_records("Division", f"WHERE Custompms_Id__c = '{too_long['id']}'")


@pytest.mark.smoke  # on Tansu too: its groups never settled with two static members
def test_two_workers_share_the_work_and_survive_one_being_killed(live: Live) -> None:
    second = live.start_worker("worker-1")
    create_tasks(live, "Two workers", 120)
    eventually(lambda: projects_named(live, "Two workers"), what="first projects")
    second.kill()
    time.sleep(1)
    second.start()
    expected = {f"Two workers {i:03d}" for i in range(120)}
    eventually(
        lambda: set(tasks_named(live, "Two workers")) == expected,
        timeout=120,
        what="every task synced across the rebalance",
    )
    assert max(projects_named(live, "Two workers").values()) == 1
    assert max(tasks_named(live, "Two workers").values()) == 1


def test_links_and_dead_letters_are_inspectable_from_the_cli(live: Live) -> None:
    from click.testing import CliRunner

    from foundation.settings import settings_env
    from sfpms.cli import cli

    # its own data, so the test does not lean on the ones before it
    created = set(create_tasks(live, "Inspect", 30))
    eventually(lambda: len(tasks_named(live, "Inspect")) == 30, timeout=120, what="tasks synced")
    producer = Producer(live.settings.producer_config())
    producer.produce(
        live.settings.topic(t.changes_topic("salesforce", "task")), key=b"y", value=b"not avro"
    )
    assert producer.flush(15) == 0
    env = settings_env(live.settings)
    runner = CliRunner()

    def linked_rows() -> list[dict[str, Any]] | None:
        exported = runner.invoke(cli, ["links", "export"], env=env)
        assert exported.exit_code == 0, exported.output
        rows = [json.loads(line) for line in exported.stdout.splitlines() if line[:1] == "{"]
        ours = [
            r
            for r in rows
            if r["flow"] == "task_project"
            and r["state"] == "linked"
            and r["salesforce_id"] in created
        ]
        return ours if len(ours) == len(created) else None

    linked = eventually(linked_rows, what="30 task_project links in the link table")
    found = runner.invoke(cli, ["links", "find", "--flow", "task_project"], env=env)
    assert found.exit_code == 0, found.output
    assert "links" in found.output.splitlines()[-1]
    shown = runner.invoke(cli, ["links", "show", linked[0]["custompms_id"]], env=env)
    assert shown.exit_code == 0, shown.output
    details = json.loads(shown.stdout)
    assert details["salesforce_id"] == linked[0]["salesforce_id"]
    assert details["provenance"]["Subject"]["set_by"] == "sf"

    def listed_letters() -> list[dict[str, Any]] | None:
        listed = runner.invoke(cli, ["dlq", "list", "--json"], env=env)
        found = [json.loads(line) for line in listed.stdout.splitlines() if line[:1] == "{"]
        wanted = any(r["stage"] == "engine" and r["record"] == "y" for r in found)
        return found if wanted else None

    letters = eventually(listed_letters, what="the garbage change in `sfpms dlq list`")
    garbage = next(r for r in letters if r["stage"] == "engine" and r["record"] == "y")
    assert "value_bytes" in garbage and "value" not in garbage
    one = runner.invoke(cli, ["dlq", "show", garbage["id"]], env=env)
    assert json.loads(one.stdout)["topic"] == t.changes_topic("salesforce", "task")
    before = len(letters)
    redriven = runner.invoke(cli, ["dlq", "redrive", garbage["id"]], env=env)
    assert "re-sent 1" in redriven.output
    # the garbage is garbage again: dead-lettered a second time, nothing else stalls
    eventually(
        lambda: len([r for _p, _o, r in read_dead_letters(live.settings)]) > before,
        what="the re-driven record dead-lettered again",
    )
