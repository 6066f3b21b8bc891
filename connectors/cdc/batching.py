"""Batches from an async stream: the first item, then whatever follows within a linger.

A Pub/Sub subscription is an async generator; cancelling a wait on it would end it. So a
pump task moves its items into a bounded queue (the bound keeps the subscription's flow
control meaningful: a consumer that stops taking stops asking for events) and batches are
taken from the queue, where a timed-out wait is harmless. A failure of the stream comes
out of `batches()` as the exception it was.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, AsyncIterator
from typing import Generic, TypeVar

T = TypeVar("T")
_END = object()


class Batches(Generic[T]):
    """`async for batch in Batches(stream, ...).iter(stop)`; close with `aclose()`."""

    def __init__(self, stream: AsyncIterable[T], *, max_items: int, linger_s: float) -> None:
        self.max_items = max(max_items, 1)
        self.linger_s = linger_s
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=self.max_items)
        self._task = asyncio.create_task(self._pump(stream))

    async def _pump(self, stream: AsyncIterable[T]) -> None:
        try:
            async for item in stream:
                await self._queue.put(item)
        except Exception as exc:  # handed to the consumer, raised there
            await self._queue.put(exc)
        else:
            await self._queue.put(_END)

    async def _get(self, wait_s: float | None) -> object:
        if wait_s is None:
            return await self._queue.get()
        return await asyncio.wait_for(self._queue.get(), wait_s)

    async def iter(self, stop: asyncio.Event) -> AsyncIterator[list[T]]:
        """Batches until the stream ends or `stop` is set; the stream's error is raised."""
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                getter = asyncio.ensure_future(self._get(None))
                done, _ = await asyncio.wait({getter, stopping}, return_when="FIRST_COMPLETED")
                if getter not in done:
                    getter.cancel()
                    return
                first = getter.result()
                batch, ended, error = self._take(first, [])
                loop = asyncio.get_running_loop()
                deadline = loop.time() + self.linger_s
                while not ended and error is None and len(batch) < self.max_items:
                    left = deadline - loop.time()
                    if left <= 0 and self._queue.empty():
                        break
                    try:
                        item = await self._get(max(left, 0.0))
                    except TimeoutError:
                        break
                    batch, ended, error = self._take(item, batch)
                if batch:
                    yield batch
                if error is not None:
                    raise error
                if ended:
                    return
        finally:
            stopping.cancel()

    @staticmethod
    def _take(item: object, batch: list[T]) -> tuple[list[T], bool, BaseException | None]:
        if item is _END:
            return batch, True, None
        if isinstance(item, BaseException):
            return batch, False, item
        batch.append(item)  # type: ignore[arg-type]
        return batch, False, None

    async def aclose(self) -> None:
        """Stop the pump (the stream's generator is closed by its owner)."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
