"""Backfills: Bulk API 2.0 above the threshold, REST below, resumable from the positions
topic, and `sfpms backfill --flow` with its progress."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
from click.testing import CliRunner

from connectors.cdc.backfill_run import BackfillReport, run_backfill
from connectors.cdc.positions import backfill_key, load_positions
from foundation.kafka import topics as t
from foundation.kafka.serde import TopicCodec, registry_client
from foundation.settings import get_settings, settings_env
from sfpms.cli import cli
from tests.integration.cdc.support import FAST, Stack, TopicReader

pytestmark = pytest.mark.integration
N = 250


@pytest.fixture
def loaded(make_stack: Callable[..., AbstractContextManager[Stack]]) -> Iterator[Stack]:
    with make_stack(bulk_job_delay_s=0.1) as stack:
        records = [{"Subject": f"Old {n:03d}"} for n in range(N)]
        stack.sf.admin("POST", "/records", {"type": "Task", "records": records})
        yield stack


def _used(stack: Stack) -> int:
    usage = stack.sf.admin("GET", "/info")["api_usage"]
    return int(usage["Max"] - usage["Remaining"])


def _task_reads(stack: Stack) -> Counter[str]:
    with TopicReader(stack.settings, t.changes_topic("salesforce", "task")) as reader:
        reader.wait_for(lambda rs: len(rs) >= N, what=f"{N} task reads")
        reader.drain(0.5)
    return Counter(e["source"]["id"] for e in reader.envelopes() if e["op"] == "r")


def test_a_large_sobject_is_read_through_bulk_and_a_stopped_backfill_resumes(
    loaded: Stack,
) -> None:
    options = FAST.model_copy(update={"bulk_threshold": 100, "bulk_page_records": 100})
    stop = asyncio.Event()
    seen: list[tuple[int, int | None]] = []

    def progress(_label: str, done: int, total: int | None) -> None:
        seen.append((done, total))
        if done >= 100:
            stop.set()  # as Ctrl-C would, after the first page

    async def first() -> list[BackfillReport]:
        return await run_backfill(
            loaded.settings,
            "task_project",
            options,
            sides=("salesforce",),
            progress=progress,
            stop=stop,
        )

    before = _used(loaded)
    (stopped,) = asyncio.run(first())
    assert (stopped.via, stopped.published, stopped.finished) == ("bulk", 100, False)
    assert seen[0] == (0, N) and seen[-1] == (100, N)
    codec = TopicCodec(loaded.settings, registry_client(loaded.settings), t.SOURCE_POSITIONS)
    stored = load_positions(loaded.settings, codec)[backfill_key("salesforce", "Task")]
    assert (stored.seq, stored.snapshot_done) == (100, False)

    (resumed,) = asyncio.run(
        run_backfill(loaded.settings, "task_project", options, sides=("salesforce",))
    )
    assert (resumed.via, resumed.published, resumed.finished) == ("bulk", N, True)
    reads = _task_reads(loaded)
    assert len(reads) == N and set(reads.values()) == {1}  # resumed after the last page
    # Two Bulk jobs of 250 records in pages of 100: a handful of calls, not one per page
    # of REST (a REST backfill of 250 in pages of 50 would be 5 pages + 2).
    calls = _used(loaded) - before
    assert calls <= 24, calls


def test_a_small_sobject_is_read_through_rest_and_the_command_shows_the_result(
    loaded: Stack,
) -> None:
    get_settings.cache_clear()
    env = settings_env(loaded.settings)
    result = CliRunner().invoke(
        cli, ["backfill", "--flow", "task_project", "--source", "salesforce"], env=env
    )
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert f"Salesforce Task: {N} records published as op r through rest" in result.output
    assert "done" in result.output
    assert len(_task_reads(loaded)) == N

    refused = CliRunner().invoke(cli, ["backfill", "--flow", "widgets"], env=env)
    assert refused.exit_code == 2 and "task_project" in refused.output
