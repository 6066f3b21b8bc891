"""The dashboard's /metrics: kafka-lag-exporter's metric names and labels, plus sfpms_*.

Rendered from the latest `LagReport` at scrape time by a custom collector on a private
registry, so a scrape never triggers Kafka I/O and series of groups that disappeared
vanish with them. Lag in seconds that cannot be estimated is exported as NaN, as
kafka-lag-exporter does for missing offsets.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from sfpms.observe.model import LagReport

PARTITION_LABELS = [
    "cluster_name", "group", "topic", "partition", "member_host", "consumer_id", "client_id",
]  # fmt: skip
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class LagCollector(Collector):
    """Yields the metric families of whatever report `current()` returns (None: nothing)."""

    def __init__(self, current: Callable[[], LagReport | None]) -> None:
        self.current = current

    def collect(self) -> Iterator[Metric]:
        report = self.current()
        if report is None:
            return
        yield from _consumer_group_metrics(report)
        yield from _partition_metrics(report)
        yield from _product_metrics(report)


def _consumer_group_metrics(report: LagReport) -> Iterator[Metric]:
    cluster = report.cluster
    offset = GaugeMetricFamily(
        "kafka_consumergroup_group_offset",
        "The last committed offset of this group for this partition",
        labels=PARTITION_LABELS,
    )
    lag = GaugeMetricFamily(
        "kafka_consumergroup_group_lag",
        "End offset minus committed offset of this group for this partition",
        labels=PARTITION_LABELS,
    )
    lag_s = GaugeMetricFamily(
        "kafka_consumergroup_group_lag_seconds",
        "Estimated age of the oldest message this group has not processed in this partition",
        labels=PARTITION_LABELS,
    )
    max_lag = GaugeMetricFamily(
        "kafka_consumergroup_group_max_lag",
        "Highest partition lag of this group in messages",
        labels=["cluster_name", "group", "is_simple_consumer"],
    )
    max_lag_s = GaugeMetricFamily(
        "kafka_consumergroup_group_max_lag_seconds",
        "Highest partition lag of this group in seconds",
        labels=["cluster_name", "group", "is_simple_consumer"],
    )
    sum_lag = GaugeMetricFamily(
        "kafka_consumergroup_group_sum_lag",
        "Sum of the partition lags of this group",
        labels=["cluster_name", "group"],
    )
    topic_sum = GaugeMetricFamily(
        "kafka_consumergroup_group_topic_sum_lag",
        "Sum of the partition lags of this group in this topic",
        labels=["cluster_name", "group", "topic"],
    )
    for group in report.groups:
        if not group.exists:
            continue
        simple = "true" if group.simple else "false"
        by_topic: dict[str, int] = {}
        for row in group.partitions:
            labels = [
                cluster, group.group, row.topic, str(row.partition),
                row.owner.member_host, row.owner.consumer_id, row.owner.client_id,
            ]  # fmt: skip
            if row.committed is not None:
                offset.add_metric(labels, row.committed)
            lag.add_metric(labels, row.lag)
            lag_s.add_metric(labels, _nan(row.lag_seconds))
            by_topic[row.topic] = by_topic.get(row.topic, 0) + row.lag
        max_lag.add_metric([cluster, group.group, simple], group.max_lag)
        max_lag_s.add_metric([cluster, group.group, simple], _nan(group.max_lag_seconds))
        sum_lag.add_metric([cluster, group.group], group.sum_lag)
        for topic, value in by_topic.items():
            topic_sum.add_metric([cluster, group.group, topic], value)
    yield from (offset, lag, lag_s, max_lag, max_lag_s, sum_lag, topic_sum)


def _partition_metrics(report: LagReport) -> Iterator[Metric]:
    latest = GaugeMetricFamily(
        "kafka_partition_latest_offset",
        "The end offset (next offset to be written) of the partition",
        labels=["cluster_name", "topic", "partition"],
    )
    earliest = GaugeMetricFamily(
        "kafka_partition_earliest_offset",
        "The earliest offset still available in the partition",
        labels=["cluster_name", "topic", "partition"],
    )
    seen: set[tuple[str, int]] = set()
    for group in report.groups:
        for row in group.partitions:
            if (row.topic, row.partition) in seen or row.error is not None:
                continue
            seen.add((row.topic, row.partition))
            labels = [report.cluster, row.topic, str(row.partition)]
            latest.add_metric(labels, row.end)
            earliest.add_metric(labels, row.earliest)
    yield from (latest, earliest)


def _product_metrics(report: LagReport) -> Iterator[Metric]:
    flow_lag = GaugeMetricFamily(
        "sfpms_flow_lag",
        "Messages not yet processed on the topics a flow depends on (engine + sinks)",
        labels=["flow"],
    )
    flow_lag_s = GaugeMetricFamily(
        "sfpms_flow_lag_seconds",
        "Age of the oldest unprocessed message on the topics a flow depends on",
        labels=["flow"],
    )
    status = GaugeMetricFamily(
        "sfpms_burrow_status",
        "Burrow status of the group: 0 NOTFOUND 1 OK 2 WARN 3 ERR 4 STOP 5 STALL 6 REWIND",
        labels=["group"],
    )
    for flow in report.flows:
        flow_lag.add_metric([flow.flow], flow.lag)
        flow_lag_s.add_metric([flow.flow], _nan(flow.lag_seconds))
    for group in report.groups:
        status.add_metric([group.group], int(group.status))
    yield from (flow_lag, flow_lag_s, status)
    if report.dlq_size is not None:
        yield GaugeMetricFamily(
            "sfpms_dlq_size", "Messages retained in the dead-letter topic", value=report.dlq_size
        )


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def render(current: Callable[[], LagReport | None]) -> bytes:
    """The exposition text for the report `current()` returns."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LagCollector(current))
    return generate_latest(registry)
