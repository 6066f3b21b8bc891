"""Reading a topic to the end it had when the read started, against the real broker."""

from __future__ import annotations

import pytest
from confluent_kafka import Producer

from foundation.kafka.admin import ensure_topics
from foundation.kafka.tail import latest_by_key, read_to_end
from foundation.kafka.topics import TopicSpec
from foundation.settings import Settings

pytestmark = pytest.mark.integration


def _fill(settings: Settings, name: str, records: list[tuple[int, bytes, bytes | None]]) -> None:
    producer = Producer(settings.producer_config())
    for partition, key, value in records:
        producer.produce(settings.topic(name), key=key, value=value, partition=partition)
    assert producer.flush(15) == 0


def test_every_partition_is_read_in_order_up_to_the_end_it_had_at_the_start(
    settings: Settings,
) -> None:
    ensure_topics(settings, [TopicSpec("tail-demo", partitions=3)])
    _fill(
        settings,
        "tail-demo",
        [(0, b"a", b"1"), (2, b"b", b"1"), (0, b"a", b"2"), (2, b"b", None), (0, b"c", b"1")],
    )
    config = settings.consumer_config(settings.topic("tail-reader"))
    records = read_to_end(config, settings.topic("tail-demo"))
    first = next(records)
    # Records produced after the read started are not waited for.
    _fill(settings, "tail-demo", [(1, b"late", b"x")])
    rest = list(records)
    seen = [(r.partition, r.offset, r.key, r.value) for r in [first, *rest]]
    assert sorted(seen) == [
        (0, 0, b"a", b"1"),
        (0, 1, b"a", b"2"),
        (0, 2, b"c", b"1"),
        (2, 0, b"b", b"1"),
        (2, 1, b"b", None),
    ]
    per_partition = [[r.offset for r in [first, *rest] if r.partition == p] for p in (0, 2)]
    assert per_partition == [[0, 1, 2], [0, 1]]


def test_the_latest_value_per_key_drops_tombstoned_keys(settings: Settings) -> None:
    ensure_topics(settings, [TopicSpec("tail-compacted", partitions=2, compacted=True)])
    _fill(
        settings,
        "tail-compacted",
        [(0, b"a", b"1"), (1, b"b", b"1"), (0, b"a", b"2"), (1, b"b", None), (1, b"c", b"3")],
    )
    config = settings.consumer_config(settings.topic("tail-reader"))
    latest = latest_by_key(read_to_end(config, settings.topic("tail-compacted")))
    assert latest == {b"a": b"2", b"c": b"3"}


def test_a_missing_topic_or_an_empty_partition_yields_nothing(settings: Settings) -> None:
    config = settings.consumer_config(settings.topic("tail-reader"))
    assert list(read_to_end(config, settings.topic("no-such-topic"), idle_s=1)) == []
    ensure_topics(settings, [TopicSpec("tail-partial", partitions=2)])
    _fill(settings, "tail-partial", [(1, b"k", b"v")])
    only_empty = read_to_end(config, settings.topic("tail-partial"), partitions=(0,))
    assert list(only_empty) == []
    only_full = read_to_end(config, settings.topic("tail-partial"), partitions=(1,))
    assert [(r.key, r.value) for r in only_full] == [(b"k", b"v")]
