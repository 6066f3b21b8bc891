"""Source positions, API-usage pacing, failure backoff, options and entity names."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

from connectors.cdc.custompms_source import feed_head
from connectors.cdc.pacing import failure_policy, paced_interval, wait_or_stop
from connectors.cdc.positions import FEED_KEY, Position, poll_key, salesforce_key
from connectors.cdc.runner import EntityRef, resolve_entity
from connectors.cdc.watermark import Mark
from foundation.errors import ConfigError
from foundation.kafka import topics as t
from foundation.kafka.serde import TopicCodec
from foundation.settings import CaptureSettings, Settings

NOW = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "position",
    [
        Position(salesforce_key("Task"), Mark(NOW, "00T1"), snapshot_done=True),
        Position(salesforce_key("Division"), None, snapshot_done=True),
        Position(FEED_KEY, seq=42),
        Position(poll_key("customer"), Mark(NOW, "cus_000001")),
    ],
)
def test_positions_round_trip_through_the_source_position_schema(position: Position) -> None:
    registry = SchemaRegistryClient.new_client({"url": "mock://cdc-positions"})
    codec = TopicCodec(Settings(), registry, t.SOURCE_POSITIONS)
    decoded = codec.decode(codec.encode(position.to_record(NOW)))
    assert Position.from_record(decoded) == position
    assert decoded["updated_at"] == NOW


def test_position_keys_name_the_source() -> None:
    assert (salesforce_key("Task"), FEED_KEY, poll_key("task")) == (
        "salesforce/Task",
        "custompms/feed",
        "custompms/task",
    )


@pytest.mark.parametrize(
    ("usage", "factor"),
    [(None, 1), (0.5, 1), (0.8, 1), (0.81, 2), (0.9, 2), (0.91, 4), (0.96, 8), (0.99, 16)],
)
def test_polling_slows_down_as_api_usage_nears_the_daily_limit(
    usage: float | None, factor: int
) -> None:
    assert paced_interval(5.0, usage, 0.8) == 5.0 * factor


def test_capture_backoff_grows_is_capped_and_honours_a_retry_after_in_full() -> None:
    rng = random.Random(3)
    assert 0.5 <= failure_policy(0.2, 60).delay(1, None, rng) <= 1.0
    assert 10 <= failure_policy(5, 60).delay(2, None, rng) <= 20
    assert 30 <= failure_policy(5, 60).delay(30, None, rng) <= 60
    assert 30 <= failure_policy(0.2, 60).delay(1, 30, rng) <= 30.2
    # A server's Retry-After beyond the cap is still honoured: polling sooner is refused.
    assert failure_policy(0.2, 60).delay(1, 3600, rng) >= 3600
    assert not failure_policy(0.2, 60).exhausted(10_000, 1e9, 3600)


async def test_wait_or_stop_returns_as_soon_as_stop_is_set() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.01, stop.set)
    started = asyncio.get_running_loop().time()
    await wait_or_stop(stop, 30)
    assert asyncio.get_running_loop().time() - started < 5


@pytest.mark.parametrize("head", [0, 1, 2, 7, 100, 1023, 1024, 5000])
async def test_feed_head_finds_the_newest_seq_in_few_probes(head: int) -> None:
    probes: list[int] = []

    async def first_after(after: int) -> int | None:
        probes.append(after)
        return after + 1 if after < head else None

    assert await feed_head(first_after) == head
    assert len(probes) <= 2 * max(head, 1).bit_length() + 3


async def test_feed_head_copes_with_gaps_in_seq() -> None:
    seqs = [3, 9, 10, 40]

    async def first_after(after: int) -> int | None:
        return next((s for s in seqs if s > after), None)

    assert await feed_head(first_after) == 40


@pytest.mark.parametrize(
    ("entity", "source", "target"),
    [
        ("Task", None, EntityRef("salesforce", "Task")),
        ("task", None, EntityRef("custompms", "task")),
        ("tasks", None, EntityRef("custompms", "task")),
        ("task", "salesforce", EntityRef("salesforce", "Task")),
        ("Task", "custompms", EntityRef("custompms", "task")),
        ("organization", None, EntityRef("salesforce", "Organization")),
        ("Customers", None, EntityRef("custompms", "customer")),
    ],
)
def test_snapshot_entity_names_resolve_to_a_system(
    entity: str, source: str | None, target: EntityRef
) -> None:
    assert resolve_entity(entity, source) == target


@pytest.mark.parametrize(("entity", "source"), [("Widget", None), ("Division", "custompms")])
def test_unknown_snapshot_entities_are_refused_with_the_choices(
    entity: str, source: str | None
) -> None:
    with pytest.raises(ConfigError, match="customer, project, task"):
        resolve_entity(entity, source)


@pytest.mark.parametrize(
    "bad",
    [
        {"poll_interval_s": 0},
        {"batch_size": 0},
        {"overlap_s": -1},
        {"feed_page_size": 1001},
        {"usage_threshold": 1.0},
    ],
)
def test_options_refuse_values_that_cannot_work(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        CaptureSettings(**bad)
