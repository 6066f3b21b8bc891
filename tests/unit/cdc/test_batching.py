"""Batches from an async stream: first item, then what follows within the linger."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from connectors.cdc.batching import Batches


async def _stream(
    items: list[int], pause_after: int | None = None, fail: bool = False
) -> AsyncIterator[int]:
    for n, item in enumerate(items):
        if pause_after is not None and n == pause_after:
            await asyncio.sleep(0.3)
        yield item
    if fail:
        raise RuntimeError("stream broke")


def _collect(stream: AsyncIterator[int], *, max_items: int, linger_s: float) -> list[list[int]]:
    async def main() -> list[list[int]]:
        batches = Batches(stream, max_items=max_items, linger_s=linger_s)
        try:
            return [batch async for batch in batches.iter(asyncio.Event())]
        finally:
            await batches.aclose()

    return asyncio.run(main())


def test_items_arriving_within_the_linger_share_a_batch_and_a_pause_starts_a_new_one() -> None:
    got = _collect(_stream([1, 2, 3, 4], pause_after=2), max_items=10, linger_s=0.1)
    assert got == [[1, 2], [3, 4]]


def test_a_batch_never_holds_more_than_its_maximum() -> None:
    got = _collect(_stream(list(range(7))), max_items=3, linger_s=0.5)
    assert got == [[0, 1, 2], [3, 4, 5], [6]]


def test_a_failing_stream_hands_over_what_came_then_raises() -> None:
    async def main() -> list[list[int]]:
        batches = Batches(_stream([1, 2], fail=True), max_items=10, linger_s=0.05)
        seen = []
        try:
            async for batch in batches.iter(asyncio.Event()):
                seen.append(batch)
        finally:
            await batches.aclose()
        return seen

    with pytest.raises(RuntimeError, match="stream broke"):
        asyncio.run(main())


def test_stop_ends_the_batches_while_the_stream_is_quiet() -> None:
    async def forever() -> AsyncIterator[int]:
        yield 1
        await asyncio.sleep(60)
        yield 2

    async def main() -> list[list[int]]:
        stop = asyncio.Event()
        batches = Batches(forever(), max_items=10, linger_s=0.01)
        asyncio.get_running_loop().call_later(0.2, stop.set)
        try:
            return [batch async for batch in batches.iter(stop)]
        finally:
            await batches.aclose()

    assert asyncio.run(asyncio.wait_for(main(), 5)) == [[1]]
