"""`sfpms lag` figures against offsets read independently with confluent-kafka's AdminClient."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from foundation.kafka.admin import ensure_topics
from foundation.kafka.topics import catalogue
from foundation.settings import Settings, get_settings, settings_env
from sfpms.cli import cli
from sfpms.observe.burrow import Status
from sfpms.observe.oneshot import measure
from tests.integration.observe.scenario import consume_and_commit, produce

pytestmark = pytest.mark.integration

PRODUCED = {0: 7, 1: 3, 2: 5, 3: 0}
CONSUMED = {0: 2, 1: 3, 2: 1, 3: 0}


def independent_lag(settings: Settings, group: str, topic: str) -> dict[int, tuple[int, int]]:
    """partition -> (committed or 0, end offset), straight from the AdminClient."""
    admin = AdminClient(settings.kafka_client_config())
    request = [ConsumerGroupTopicPartitions(group)]
    committed = {
        tp.partition: tp.offset
        for tp in admin.list_consumer_group_offsets(request)[group].result(10).topic_partitions
        if tp.topic == topic
    }
    ends = admin.list_offsets({TopicPartition(topic, p): OffsetSpec.latest() for p in PRODUCED})
    return {
        tp.partition: (max(committed.get(tp.partition, 0), 0), future.result(10).offset)
        for tp, future in ends.items()
    }


def setup_group(settings: Settings) -> tuple[str, str]:
    topic = settings.topic("custompms.writes")
    group = settings.topic("sfpms-sink-custompms")
    ensure_topics(settings, [s for s in catalogue() if s.name == "custompms.writes"])
    produce(settings, topic, PRODUCED)
    consume_and_commit(settings, group, topic, CONSUMED)
    return group, topic


@pytest.mark.smoke
def test_lag_per_partition_is_produced_minus_committed_as_the_admin_client_sees_it(
    settings: Settings,
) -> None:
    group, topic = setup_group(settings)
    report = measure(settings, [group])
    expected = independent_lag(settings, group, topic)
    [observed] = report.groups
    rows = {r.partition: r for r in observed.partitions if r.topic == topic}
    assert set(rows) == set(PRODUCED)
    for partition, (committed, end) in expected.items():
        row = rows[partition]
        assert row.lag == PRODUCED[partition] - CONSUMED[partition] == end - committed
        assert row.end == end
        assert (row.committed or 0) == committed
    assert rows[3].committed is None  # never committed: it would start at the earliest offset
    assert observed.sum_lag == sum(PRODUCED.values()) - sum(CONSUMED.values())
    assert observed.status != Status.NOTFOUND


def test_lag_seconds_without_history_come_from_the_record_at_the_committed_offset(
    settings: Settings,
) -> None:
    group, topic = setup_group(settings)
    time.sleep(1.2)
    report = measure(settings, [group])
    rows = {r.partition: r for r in report.groups[0].partitions if r.topic == topic}
    lagging = rows[0]
    assert lagging.lag_seconds_method.value == "record"
    assert lagging.lag_seconds is not None and 1.0 <= lagging.lag_seconds < 120
    assert rows[1].lag == 0 and rows[1].lag_seconds == 0.0


def test_flows_report_the_lag_of_their_write_topics(settings: Settings) -> None:
    setup_group(settings)
    report = measure(settings)
    flows = {f.flow: f for f in report.flows}
    behind = sum(PRODUCED.values()) - sum(CONSUMED.values())
    # One write topic per system: every flow that writes to Custompms shares its lag.
    assert flows["task_project"].lag == flows["division_customer"].lag == behind
    assert flows["task_project"].latency is None  # no sink metrics endpoint is running
    assert report.latency_source.startswith("n/a")


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_cli_prints_the_same_figures_as_json(settings: Settings, cli_env: None) -> None:
    group, topic = setup_group(settings)
    result = CliRunner().invoke(cli, ["lag", "--json", "--group", group])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    [reported] = data["groups"]
    lags = {p["partition"]: p["lag"] for p in reported["partitions"] if p["topic"] == topic}
    assert lags == {p: PRODUCED[p] - CONSUMED[p] for p in PRODUCED}
    assert {"status", "lag_seconds", "lag_seconds_method", "end", "committed"} <= set(
        reported["partitions"][0]
    )
    assert {f["flow"] for f in data["flows"]} >= {"task_project", "task_task"}


def test_the_cli_table_names_each_group_with_its_status(settings: Settings, cli_env: None) -> None:
    group, _ = setup_group(settings)
    result = CliRunner().invoke(
        cli, ["lag", "--group", group, "--samples", "2", "--interval", "0.2"]
    )
    assert result.exit_code == 0, result.output
    assert group in result.output
    assert "flows" in result.output
