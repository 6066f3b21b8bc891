"""The /metrics text: kafka-lag-exporter names and labels, plus the sfpms_* figures."""

from __future__ import annotations

import math

from prometheus_client.parser import text_string_to_metric_families

from sfpms.observe.exposition import render
from sfpms.observe.offsets import Member
from sfpms.observe.tracker import FlowExtras, LagTracker
from tests.unit.observe.builders import (
    ENGINE,
    NAMING,
    PROJECT_WRITES,
    SINK_PMS,
    TASK_CHANGES,
    group,
    snapshot,
)


def samples() -> dict[str, list[tuple[dict[str, str], float]]]:
    tracker = LagTracker(NAMING)
    owner = Member("10.0.0.7", "consumer-1-abc", "consumer-1")
    snap = snapshot(
        100.0,
        {(PROJECT_WRITES, 0): 10, (PROJECT_WRITES, 1): 4, (TASK_CHANGES, 0): 3},
        {
            SINK_PMS: group(
                SINK_PMS,
                {(PROJECT_WRITES, 0): 7, (PROJECT_WRITES, 1): 4},
                owners={(PROJECT_WRITES, 0): owner, (PROJECT_WRITES, 1): owner},
            ),
            ENGINE: group(ENGINE, {}, state="DEAD", exists=False),
        },
        {SINK_PMS: (PROJECT_WRITES,), ENGINE: (TASK_CHANGES,)},
    )
    tracker.observe(snap)
    report = tracker.report(snap, "local", FlowExtras(latency={}, dlq_size=3))
    text = render(lambda: report).decode()
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def test_partition_lag_carries_kafka_lag_exporters_labels() -> None:
    lag = samples()["kafka_consumergroup_group_lag"]
    labels, value = next((lb, v) for lb, v in lag if lb["partition"] == "0")
    assert value == 3
    assert labels == {
        "cluster_name": "local",
        "group": SINK_PMS,
        "topic": PROJECT_WRITES,
        "partition": "0",
        "member_host": "10.0.0.7",
        "consumer_id": "consumer-1-abc",
        "client_id": "consumer-1",
    }


def test_every_kafka_lag_exporter_metric_is_exported() -> None:
    found = samples()
    for name in (
        "kafka_consumergroup_group_offset",
        "kafka_consumergroup_group_lag",
        "kafka_consumergroup_group_lag_seconds",
        "kafka_consumergroup_group_max_lag",
        "kafka_consumergroup_group_max_lag_seconds",
        "kafka_consumergroup_group_sum_lag",
        "kafka_consumergroup_group_topic_sum_lag",
        "kafka_partition_latest_offset",
        "kafka_partition_earliest_offset",
    ):
        assert name in found, name
    [(labels, value)] = found["kafka_consumergroup_group_max_lag"]
    assert labels == {"cluster_name": "local", "group": SINK_PMS, "is_simple_consumer": "false"}
    assert value == 3
    assert [v for _, v in found["kafka_consumergroup_group_sum_lag"]] == [3]


def test_groups_the_broker_does_not_know_export_no_group_series() -> None:
    found = samples()
    groups = {labels["group"] for labels, _ in found["kafka_consumergroup_group_lag"]}
    assert groups == {SINK_PMS}
    status = {labels["group"]: value for labels, value in found["sfpms_burrow_status"]}
    assert status == {SINK_PMS: 1.0, ENGINE: 0.0}


def test_unknown_lag_seconds_are_nan_and_product_metrics_are_present() -> None:
    found = samples()
    seconds = found["kafka_consumergroup_group_lag_seconds"]
    assert any(math.isnan(v) for _, v in seconds)  # lag 3 with no history and no record time
    flows = {labels["flow"]: v for labels, v in found["sfpms_flow_lag"]}
    assert flows["task_project"] == 3 + 3  # project writes (sink) + task changes (engine)
    assert found["sfpms_dlq_size"] == [({}, 3.0)]


def test_before_the_first_sample_the_endpoint_is_empty_but_valid() -> None:
    assert list(text_string_to_metric_families(render(lambda: None).decode())) == []
