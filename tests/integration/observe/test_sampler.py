"""The background sampler against a real broker: interpolated seconds, history, shutdown."""

from __future__ import annotations

import asyncio
import time

import pytest

from foundation.kafka.admin import ensure_topics
from foundation.kafka.topics import catalogue
from foundation.settings import Settings
from sfpms.observe.sampler import Sampler, SamplerOptions
from sfpms.observe.timelag import LagSecondsMethod
from tests.integration.observe.scenario import consume_and_commit, produce

pytestmark = pytest.mark.integration


def test_with_sampled_end_offsets_the_lag_seconds_are_interpolated(settings: Settings) -> None:
    topic = settings.topic("salesforce.writes")
    group = settings.topic("sfpms-sink-salesforce")
    ensure_topics(settings, [s for s in catalogue() if s.name == "salesforce.writes"])
    sampler = Sampler(settings, SamplerOptions(groups=(group,)))
    try:
        produce(settings, topic, {0: 2})
        consume_and_commit(settings, group, topic, {0: 2})
        first = sampler.poll_once()  # end offset 2 sampled at t1
        time.sleep(0.6)
        produce(settings, topic, {0: 4})
        report = sampler.poll_once()  # end offset 6 sampled at t2: offsets 2..5 lie between
        row = next(r for r in report.groups[0].partitions if (r.topic, r.partition) == (topic, 0))
        assert row.lag == 4
        assert row.lag_seconds_method == LagSecondsMethod.INTERPOLATED
        # offset 2 was not there at t1 and was by t2: interpolation places it at t1
        assert row.lag_seconds == pytest.approx(report.taken_at - first.taken_at)
        series = sampler.history()[f"group:{group}"]
        assert [point[1] for point in series] == [0, 4]
    finally:
        sampler.close()


async def test_the_poll_loop_stops_promptly_when_asked(settings: Settings) -> None:
    ensure_topics(settings, catalogue())
    sampler = Sampler(settings, SamplerOptions(interval_s=0.2))
    stop = asyncio.Event()
    task = asyncio.create_task(sampler.run(stop))
    try:
        deadline = time.monotonic() + 15
        while sampler.polls < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert sampler.polls >= 2, sampler.last_error
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        polls = sampler.polls
        await asyncio.sleep(0.5)
        assert sampler.polls == polls
    finally:
        stop.set()
        await asyncio.to_thread(sampler.close)


def test_lag_history_survives_a_dashboard_restart(settings: Settings) -> None:
    topic = settings.topic("salesforce.task.writes")
    group = settings.topic("sfpms-sink-salesforce")
    ensure_topics(settings, [s for s in catalogue() if s.name == "salesforce.task.writes"])
    first = Sampler(settings, SamplerOptions(groups=(group,)))
    try:
        produce(settings, topic, {0: 3})
        consume_and_commit(settings, group, topic, {0: 1})
        first.poll_once()
        first.poll_once()
        before = first.history()[f"group:{group}"]
    finally:
        first.close()
    assert [point[1] for point in before] == [2, 2]
    restarted = Sampler(settings, SamplerOptions(groups=(group,)))  # no Prometheus configured
    try:
        assert restarted.restore_history() >= 2
        assert restarted.history()[f"group:{group}"] == before
        assert restarted.history_source is not None
        assert restarted.history_source.endswith("dashboard/history.json")
        restarted.poll_once()
        assert len(restarted.history()[f"group:{group}"]) == 3  # goes on from there
    finally:
        restarted.close()
