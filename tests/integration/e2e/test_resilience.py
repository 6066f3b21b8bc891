"""Killed workers and malformed input, end to end: nothing lost, nothing duplicated,
bad records dead-lettered while the rest keeps flowing."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pytest
from confluent_kafka import Producer

from sfpms.deadletters import read_dead_letters
from sfpms.kafka import topics as t
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
    producer.produce(
        settings.topic(t.writes_topic("custompms", "project")), key=b"x", value=b"\x00garbage"
    )
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
