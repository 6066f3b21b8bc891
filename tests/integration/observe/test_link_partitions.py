"""`sfpms links history` reads only the partitions a link's ids hash to: that placement must
be the one the product's producers (librdkafka, murmur2) actually use."""

from __future__ import annotations

import pytest
from confluent_kafka import Producer

from foundation.kafka.admin import ensure_topics
from foundation.kafka.topics import catalogue
from foundation.settings import Settings
from sfpms.observe.linkstory import partition_of

pytestmark = pytest.mark.integration


def test_partition_of_a_key_is_where_the_product_producer_puts_it(settings: Settings) -> None:
    ensure_topics(settings, [s for s in catalogue() if s.name == "sfpms.results"])
    topic = settings.topic("sfpms.results")
    placed: dict[str, int] = {}

    def delivered(err: object, msg: object) -> None:
        assert err is None, err
        placed[msg.key().decode()] = msg.partition()  # type: ignore[attr-defined]

    producer = Producer(settings.producer_config())
    keys = [f"00T{i:012d}" for i in range(40)] + ["prj_000001", "pms:tsk_000007"]
    for key in keys:
        producer.produce(topic, key=key.encode(), value=b"x", on_delivery=delivered)
    assert producer.flush(15) == 0
    assert len(set(placed.values())) == settings.partitions  # the keys do spread
    assert {k: partition_of(k, settings.partitions) for k in keys} == placed
