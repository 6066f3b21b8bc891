"""Where the Custompms CDC starts: feed or poll mode, seq 0, the head, or the stored seq."""

from __future__ import annotations

from typing import Any, cast

import pytest

from connectors.cdc.custompms_source import CustompmsSource
from connectors.cdc.metrics import CdcMetrics
from connectors.cdc.positions import FEED_KEY, Position
from connectors.cdc.publisher import Publisher
from connectors.custompms import ChangesPage, CustompmsClient, FeedEntry, NotFoundError
from foundation.settings import CaptureSettings


class FakeFeed:
    """Answers `changes(after, limit)` from a list of seqs, or 404 like an API without one."""

    def __init__(self, seqs: list[int], offered: bool = True) -> None:
        self.seqs = seqs
        self.offered = offered

    async def changes(self, after: int = 0, limit: int = 100) -> ChangesPage:
        if not self.offered:
            raise NotFoundError(
                "Custompms GET /changes failed with 404",
                status=404,
                code="not_found",
                resource="changes",
            )
        picked = [s for s in self.seqs if s > after][:limit]
        entries = tuple(
            FeedEntry(s, "tasks", f"tsk_{s:06d}", "create", 1, "2026-11-25T23:00:00.000Z", "a", rec)
            for s in picked
            # seq 3 carries a record that cannot be converted (version is not a number)
            for rec in [{"id": f"tsk_{s:06d}", "version": "one" if s == 3 else 1}]
        )
        return ChangesPage(entries, picked[-1] if picked else after)


class FakePublisher:
    def __init__(self) -> None:
        self.checkpoints: list[Position] = []

    async def checkpoint(self, position: Position) -> None:
        self.checkpoints.append(position)


def source(
    feed: FakeFeed, options: CaptureSettings, positions: dict[str, Position] | None = None
) -> tuple[CustompmsSource, FakePublisher]:
    publisher = FakePublisher()
    built = CustompmsSource(
        cast(CustompmsClient, feed),
        cast(Publisher, publisher),
        CdcMetrics(),
        options,
        positions or {},
        "sfpms",
    )
    return built, publisher


async def test_an_api_without_a_change_feed_is_polled_instead() -> None:
    cdc, publisher = source(FakeFeed([], offered=False), CaptureSettings())
    await cdc.prepare()
    assert cdc.mode == "poll" and publisher.checkpoints == []


async def test_a_first_start_begins_at_seq_zero_and_stores_that_at_once() -> None:
    cdc, publisher = source(FakeFeed([1, 2, 3]), CaptureSettings())
    await cdc.prepare()
    assert (cdc.mode, cdc.seq) == ("feed", 0)
    assert publisher.checkpoints == [Position(FEED_KEY, seq=0)]


async def test_from_now_begins_at_the_head_and_stores_it_so_a_restart_skips_nothing() -> None:
    cdc, publisher = source(FakeFeed(list(range(1, 38))), CaptureSettings(from_now=True))
    await cdc.prepare()
    assert cdc.seq == 37
    assert publisher.checkpoints == [Position(FEED_KEY, seq=37)]


@pytest.mark.parametrize("from_now", [False, True])
async def test_a_stored_seq_wins_over_from_now(from_now: bool) -> None:
    options = CaptureSettings(from_now=from_now)
    cdc, publisher = source(FakeFeed([1, 2, 3]), options, {FEED_KEY: Position(FEED_KEY, seq=2)})
    await cdc.prepare()
    assert cdc.seq == 2 and publisher.checkpoints == []


async def test_read_feed_publishes_pages_dead_letters_bad_entries_and_commits_each_page() -> None:
    published: list[Any] = []
    letters: list[dict[str, Any]] = []

    class RecordingPublisher(FakePublisher):
        def publish(self, emission: Any) -> None:
            published.append(emission)

        def dead_letter(self, error: Exception, **where: Any) -> None:
            letters.append({"error": error, **where})

    feed = FakeFeed([1, 2, 3, 4, 5])
    cdc = CustompmsSource(
        cast(CustompmsClient, feed),
        cast(Publisher, RecordingPublisher()),
        CdcMetrics(),
        CaptureSettings(feed_page_size=2),
        {FEED_KEY: Position(FEED_KEY, seq=1)},
        "sfpms",
    )
    await cdc.prepare()
    assert await cdc.read_feed() == 4
    assert [e.value["source"]["seq"] for e in published] == [2, 4, 5]
    assert [(x["key"], x["entity"], x["error"].field) for x in letters] == [
        ("tsk_000003", "task", "version")
    ]
    checkpoints = cast(RecordingPublisher, cdc.publisher).checkpoints
    assert [p.seq for p in checkpoints] == [3, 5]
    assert cdc.seq == 5
