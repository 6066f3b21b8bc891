"""`Subscription`: one topic's Subscribe stream, with flow control, keepalives and reconnects.

- Flow control: asks for `batch_size` events (at most 100, Salesforce's cap) when the
  stream opens, then asks again for what the consumer has taken whenever half a batch has
  been consumed, so the server never sends more than the consumer can take (an event
  counts as consumed when the consumer asks for the next item).
- Yields `ChangeEvent`s and, for empty FetchResponses, `KeepAlive`s; `latest_replay_id`
  is always the newest position seen (store it to resume).
- Reconnects with backoff (the REST client's `RetryPolicy`) when the stream fails with
  UNAVAILABLE or the server ends it (Salesforce closes an idle stream), resuming after
  `latest_replay_id` (CUSTOM); the attempt count resets once a response arrives.
- UNAUTHENTICATED: one fresh login, then `PubSubAuthError`. A refused replay id:
  `ReplayIdInvalid`, never a silent restart elsewhere in the stream.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import grpc

from connectors.salesforce.pubsub.client import classify
from connectors.salesforce.pubsub.errors import PubSubUnavailable
from connectors.salesforce.pubsub.events import ChangeEvent, KeepAlive, decode_event
from connectors.salesforce.pubsub.proto import pubsub_api_pb2 as pb2

if TYPE_CHECKING:
    from connectors.salesforce.pubsub.client import PubSubClient

log = logging.getLogger("connectors.salesforce.pubsub")

#: Salesforce counts at most this many requested events per Subscribe call.
MAX_BATCH = 100
_PRESETS = {
    "LATEST": pb2.ReplayPreset.LATEST,
    "EARLIEST": pb2.ReplayPreset.EARLIEST,
    "CUSTOM": pb2.ReplayPreset.CUSTOM,
}


@dataclass(frozen=True, slots=True)
class ReplayStart:
    """Where a subscription starts: the tip, the oldest stored event, or after a replay id."""

    preset: Literal["LATEST", "EARLIEST", "CUSTOM"]
    replay_id: bytes = b""

    @classmethod
    def latest(cls) -> ReplayStart:
        return cls("LATEST")

    @classmethod
    def earliest(cls) -> ReplayStart:
        return cls("EARLIEST")

    @classmethod
    def after(cls, replay_id: bytes) -> ReplayStart:
        """Resume after the event (or keepalive position) `replay_id`; opaque bytes."""
        if not replay_id:
            raise ValueError("a CUSTOM replay start needs the stored replay id")
        return cls("CUSTOM", bytes(replay_id))


class Subscription:
    """ChangeEvents and KeepAlives of one topic, until the caller stops.

        async with client.subscribe(topic, start) as subscription:
            async for item in subscription:
                ...

    Leaving the `async with` (or `await subscription.aclose()`) cancels the stream.
    """

    def __init__(
        self, client: PubSubClient, topic: str, start: ReplayStart, *, batch_size: int = 100
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1..{MAX_BATCH} (Salesforce's cap)")
        self.client = client
        self.topic = topic
        self.start = start
        self.batch_size = batch_size
        self.latest_replay_id: bytes = start.replay_id
        self.reconnects = 0
        self.requested = 0  # events asked for in FetchRequests, over all streams
        self.received = 0
        self._iterator: AsyncGenerator[ChangeEvent | KeepAlive, None] | None = None

    def __aiter__(self) -> AsyncIterator[ChangeEvent | KeepAlive]:
        if self._iterator is None:
            self._iterator = self._items()
        return self._iterator

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop: cancel the stream (safe to call more than once)."""
        if self._iterator is not None:
            await self._iterator.aclose()

    def _resume_point(self) -> ReplayStart:
        return ReplayStart.after(self.latest_replay_id) if self.latest_replay_id else self.start

    async def _items(self) -> AsyncGenerator[ChangeEvent | KeepAlive, None]:
        attempt = 0
        creds = await self.client.source.credentials()
        refreshed = False
        while True:
            start = self._resume_point()
            try:
                async for item in self._stream(start, creds.metadata()):
                    attempt, refreshed = 0, False
                    yield item
                why = "stream ended by the server"
            except grpc.aio.AioRpcError as exc:
                if exc.code() == grpc.StatusCode.UNAUTHENTICATED and not refreshed:
                    refreshed = True
                    creds = await self.client.source.refresh(creds)
                    continue
                if exc.code() != grpc.StatusCode.UNAVAILABLE:
                    raise classify(exc, topic=self.topic, replay_id=start.replay_id) from exc
                why = f"unavailable ({exc.details()})"
            attempt += 1
            if self.client.retry.exhausted(attempt - 1):
                raise PubSubUnavailable(
                    f"the Subscribe stream for {self.topic} at {self.client.endpoint} kept "
                    f"failing ({why}) through {attempt - 1} reconnects; resume after replay "
                    f"id {self.latest_replay_id.hex() or '(none)'}"
                )
            self.reconnects += 1
            await self.client.pause(attempt, f"{self.topic}: {why}")

    async def _stream(
        self, start: ReplayStart, metadata: tuple[tuple[str, str], ...]
    ) -> AsyncIterator[ChangeEvent | KeepAlive]:
        outbox: asyncio.Queue[Any] = asyncio.Queue()

        async def requests() -> AsyncIterator[Any]:
            while True:
                request = await outbox.get()
                if request is None:
                    return
                yield request

        def ask(n: int, first: bool = False) -> None:
            self.requested += n
            if first:
                outbox.put_nowait(
                    pb2.FetchRequest(
                        topic_name=self.topic,
                        replay_preset=_PRESETS[start.preset],
                        replay_id=start.replay_id,
                        num_requested=n,
                    )
                )
            else:
                outbox.put_nowait(pb2.FetchRequest(num_requested=n))

        ask(self.batch_size, first=True)
        consumed = 0
        call = self.client.stub.Subscribe(requests(), metadata=metadata)
        try:
            async for response in call:
                if not response.events:
                    if response.latest_replay_id:
                        self.latest_replay_id = bytes(response.latest_replay_id)
                    yield KeepAlive(self.latest_replay_id, response.pending_num_requested)
                    continue
                for item in response.events:
                    event = await self._decode(item)
                    self.received += 1
                    self.latest_replay_id = event.replay_id
                    yield event
                    consumed += 1
                    if consumed * 2 >= self.batch_size:
                        ask(consumed)
                        consumed = 0
                if response.latest_replay_id:
                    self.latest_replay_id = bytes(response.latest_replay_id)
        finally:
            outbox.put_nowait(None)
            call.cancel()

    async def _decode(self, item: Any) -> ChangeEvent:
        schema = await self.client.get_schema(item.event.schema_id, topic=self.topic)
        return decode_event(
            schema, item.event.payload, replay_id=bytes(item.replay_id), event_id=item.event.id
        )
