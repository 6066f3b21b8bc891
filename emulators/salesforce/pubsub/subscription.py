"""One Subscribe stream: replay start, pull flow control, keepalives, idle close, allocation.

Documented behaviour (Pub/Sub API "Subscribe RPC Method", "Pull Subscription and Flow
Control", proto comments), all followed here:

- The first FetchRequest names the topic and where to start (replay_preset / replay_id);
  later ones only add to the request count. A later topic_name that differs is
  INVALID_ARGUMENT. Replay options of later requests are ignored.
- At most 100 events may be pending across all FetchRequests of the call; asking for more
  counts as 100 (it is not an error).
- The server sends at most the pending number of events, in one or more FetchResponses,
  each carrying `pending_num_requested` (still owed) and `latest_replay_id`.
- While events are owed but none arrive, an empty FetchResponse (keepalive, with the
  latest replay id) is sent within 270 s (`keepalive_s`, shorter in tests).
- When nothing is owed, the client must send a FetchRequest within 60 s of the last
  FetchResponse (`idle_timeout_s`) or the stream closes (here: completes with OK; the
  status is not documented).
- Delivered events count against the org's rolling 24-hour event delivery allocation
  (50,000 by default, Unlimited/Performance Edition); past it the call fails with
  `sfdc.platform.eventbus.grpc.subscription.limit.exceeded`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from emulators.common.stats import RequestStats
from emulators.salesforce.pubsub.bus import ChangeEventBus
from emulators.salesforce.pubsub.errors import (
    PubSubError,
    delivery_limit_exceeded,
    replay_id_corrupted,
    topic_mismatch,
    unknown_topic,
)
from emulators.salesforce.pubsub.eventlog import ReplayIdInvalid, replay_id
from emulators.salesforce.pubsub.proto import pubsub_api_pb2 as pb2

MAX_PENDING = 100
#: Stay well below gRPC's 4 MB message limit when batching events into one response.
MAX_RESPONSE_BYTES = 3 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SubscribeOptions:
    keepalive_s: float = 270.0
    idle_timeout_s: float = 60.0


class DeliveryAllocation:
    """Events delivered to API subscribers in the last 24 hours, against a daily limit."""

    WINDOW_S = 24 * 3600.0

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._delivered: deque[tuple[float, int]] = deque()
        self._used = 0

    def take(self, n: int) -> int:
        """Count up to `n` deliveries; how many the allocation allows (0 when used up)."""
        now = time.monotonic()
        with self._lock:
            while self._delivered and self._delivered[0][0] <= now - self.WINDOW_S:
                self._used -= self._delivered.popleft()[1]
            granted = max(0, min(n, self.limit - self._used))
            if granted:
                self._delivered.append((now, granted))
                self._used += granted
            return granted

    @property
    def used(self) -> int:
        with self._lock:
            return self._used


@dataclass(slots=True)
class _Flow:
    topic: str
    pending: int
    error: PubSubError | None = None
    closed: bool = False

    def add(self, requested: int) -> None:
        self.pending = min(MAX_PENDING, self.pending + max(0, requested))


def start_position(bus: ChangeEventBus, first: Any) -> int:
    """Where the subscription starts (it delivers events after this position)."""
    if first.replay_preset == pb2.ReplayPreset.EARLIEST:
        return bus.log.earliest()
    if first.replay_preset == pb2.ReplayPreset.CUSTOM:
        try:
            return bus.log.position_of(bytes(first.replay_id))
        except ReplayIdInvalid as exc:
            raise replay_id_corrupted() from exc
    return bus.log.tip


async def _read_requests(requests: AsyncIterator[Any], flow: _Flow, wake: asyncio.Event) -> None:
    try:
        async for request in requests:
            if request.topic_name and request.topic_name != flow.topic:
                flow.error = topic_mismatch(flow.topic, request.topic_name)
                return
            flow.add(request.num_requested)
            wake.set()
    finally:
        flow.closed = True
        wake.set()


async def stream_events(
    bus: ChangeEventBus,
    first: Any,
    requests: AsyncIterator[Any],
    *,
    org_id: str,
    rpc_id: str,
    options: SubscribeOptions,
    allocation: DeliveryAllocation,
    stats: RequestStats,
) -> AsyncIterator[Any]:
    """FetchResponses for one Subscribe call whose first FetchRequest is `first`."""
    if bus.schema(first.topic_name) is None:
        raise unknown_topic(first.topic_name, org_id)
    cursor = start_position(bus, first)
    flow = _Flow(first.topic_name, 0)
    flow.add(first.num_requested)
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    bus.log.watch(loop, wake)
    reader = asyncio.create_task(_read_requests(requests, flow, wake))
    last_sent = time.monotonic()
    try:
        while True:
            wake.clear()
            if flow.error is not None:
                raise flow.error
            batch = _batch(bus, cursor, flow.pending)
            if batch:
                granted = allocation.take(len(batch))
                if not granted:
                    raise delivery_limit_exceeded()
                batch = batch[:granted]
                flow.pending -= len(batch)
                cursor = batch[-1].position
                stats.count("pubsub.events.delivered", len(batch))
                last_sent = time.monotonic()
                yield pb2.FetchResponse(
                    events=[_consumer_event(e) for e in batch],
                    latest_replay_id=replay_id(cursor),
                    rpc_id=rpc_id,
                    pending_num_requested=flow.pending,
                )
                continue
            idle = time.monotonic() - last_sent
            if flow.pending > 0:
                if idle >= options.keepalive_s:
                    stats.count("pubsub.keepalives")
                    last_sent = time.monotonic()
                    yield pb2.FetchResponse(
                        latest_replay_id=replay_id(cursor),
                        rpc_id=rpc_id,
                        pending_num_requested=flow.pending,
                    )
                    continue
                timeout = options.keepalive_s - idle
            else:
                if flow.closed or idle >= options.idle_timeout_s:
                    stats.count("pubsub.streams.closed_idle")
                    return
                timeout = options.idle_timeout_s - idle
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout)
    finally:
        bus.log.unwatch(loop, wake)
        reader.cancel()


def _batch(bus: ChangeEventBus, cursor: int, pending: int) -> list[Any]:
    events = bus.log.read(cursor, pending)
    size = 0
    for n, event in enumerate(events):
        size += len(event.payload)
        if size > MAX_RESPONSE_BYTES and n:
            return events[:n]
    return events


def _consumer_event(event: Any) -> Any:
    return pb2.ConsumerEvent(
        event=pb2.ProducerEvent(id=event.uuid, schema_id=event.schema_id, payload=event.payload),
        replay_id=event.replay_id,
    )
