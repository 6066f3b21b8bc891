"""Subscribe flow control, keepalives and request errors, driven with raw gRPC stubs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import grpc
import pytest

from connectors.salesforce.pubsub.proto import pubsub_api_pb2 as pb2
from tests.integration.salesforce.pubsub_support import (
    TOPIC,
    Requests,
    Responses,
    RunningPubSub,
    fetch,
)

pytestmark = pytest.mark.integration
EARLIEST = pb2.ReplayPreset.EARLIEST


def write_tasks(sfps: RunningPubSub, n: int) -> list[str]:
    return sfps.sf.bulk("Task", [{"Subject": f"task {i}"} for i in range(n)])


async def test_server_never_sends_more_events_than_requested(sfps: RunningPubSub) -> None:
    write_tasks(sfps, 5)
    requests = Requests(fetch(2, EARLIEST))
    async with sfps.stub() as stub:
        responses = Responses(stub.Subscribe(requests, metadata=sfps.metadata()))
        first = await responses.with_events(2)
        assert sum(len(r.events) for r in first) == 2
        assert first[-1].pending_num_requested == 0
        # Nothing is owed: no events and no keepalives until the client asks again.
        assert await responses.silent(1.2)
        requests.put(pb2.FetchRequest(num_requested=2))
        second = await responses.with_events(2)
        assert sum(len(r.events) for r in second) == 2
        assert await responses.silent(1.2)
        await responses.close()
    positions = [int.from_bytes(e.replay_id, "big") for r in first + second for e in r.events]
    assert positions == sorted(positions) and len(set(positions)) == 4


async def test_asking_for_more_than_100_counts_as_100_and_is_no_error(
    sfps: RunningPubSub,
) -> None:
    write_tasks(sfps, 120)
    requests = Requests(fetch(150, EARLIEST))
    async with sfps.stub() as stub:
        responses = Responses(stub.Subscribe(requests, metadata=sfps.metadata()))
        batch = await responses.with_events(100)
        assert sum(len(r.events) for r in batch) == 100
        assert batch[-1].pending_num_requested == 0
        assert await responses.silent(1.2)
        requests.put(pb2.FetchRequest(num_requested=30))
        rest = await responses.with_events(20)
        assert sum(len(r.events) for r in rest) == 20
        # 10 of those 30 are still owed; the server says so in its keepalives.
        keepalive = await responses.next()
        assert not keepalive.events and keepalive.pending_num_requested == 10
        await responses.close()


async def test_requests_add_up_to_at_most_100_pending(sfps: RunningPubSub) -> None:
    requests = Requests(fetch(60), pb2.FetchRequest(num_requested=60))
    async with sfps.stub() as stub:
        responses = Responses(stub.Subscribe(requests, metadata=sfps.metadata()))
        await responses.next()
        keepalive = await responses.next()
        assert not keepalive.events and keepalive.pending_num_requested == 100
        await responses.close()


async def test_idle_stream_gets_keepalives_with_the_latest_replay_id(sfps: RunningPubSub) -> None:
    write_tasks(sfps, 3)
    tip = sfps.sf.admin("GET", "/pubsub")["tip"]
    async with sfps.stub() as stub:
        responses = Responses(stub.Subscribe(Requests(fetch(5)), metadata=sfps.metadata()))
        started = asyncio.get_running_loop().time()
        keepalives = [await responses.next(5), await responses.next(5)]
        elapsed = asyncio.get_running_loop().time() - started
        await responses.close()
    assert all(not k.events and k.pending_num_requested == 5 for k in keepalives)
    assert all(int.from_bytes(k.latest_replay_id, "big") == tip for k in keepalives)
    assert all(k.rpc_id for k in keepalives)
    assert elapsed >= 0.9  # two keepalive intervals of 0.5 s


async def test_stream_closes_when_nothing_is_owed_and_no_request_follows(
    start_sfps: Callable[..., AbstractContextManager[RunningPubSub]],
) -> None:
    with start_sfps(pubsub_idle_timeout_s=0.5) as sfps:
        write_tasks(sfps, 1)
        async with sfps.stub() as stub:
            call = stub.Subscribe(Requests(fetch(1, EARLIEST)), metadata=sfps.metadata())
            items = await asyncio.wait_for(_drain(call), 5)
            assert sum(len(r.events) for r in items) == 1
            assert await call.code() == grpc.StatusCode.OK
        assert sfps.sf.admin("GET", "/stats")["counters"]["pubsub.streams.closed_idle"] == 1


async def _drain(call: Any) -> list[Any]:
    return [response async for response in call]


async def test_a_later_request_naming_another_topic_is_invalid_argument(
    sfps: RunningPubSub,
) -> None:
    requests = Requests(fetch(1), fetch(1, topic="/data/AccountChangeEvent"))
    async with sfps.stub() as stub:
        call = stub.Subscribe(requests, metadata=sfps.metadata())
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await _drain(call)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "does not match" in (raised.value.details() or "")


async def test_unknown_topic_is_refused_by_get_topic_and_subscribe(sfps: RunningPubSub) -> None:
    async with sfps.stub() as stub:
        with pytest.raises(grpc.aio.AioRpcError) as topic_error:
            await stub.GetTopic(pb2.TopicRequest(topic_name="/data/Nope"), metadata=sfps.metadata())
        call = stub.Subscribe(Requests(fetch(1, topic="/data/Nope")), metadata=sfps.metadata())
        with pytest.raises(grpc.aio.AioRpcError) as subscribe_error:
            await _drain(call)
    for error in (topic_error.value, subscribe_error.value):
        assert error.code() == grpc.StatusCode.NOT_FOUND
        assert "rpcId: " in (error.details() or "")


async def test_get_topic_names_the_schema_every_event_is_written_with(sfps: RunningPubSub) -> None:
    write_tasks(sfps, 1)
    async with sfps.stub() as stub:
        topic = await stub.GetTopic(pb2.TopicRequest(topic_name=TOPIC), metadata=sfps.metadata())
        schema = await stub.GetSchema(
            pb2.SchemaRequest(schema_id=topic.schema_id), metadata=sfps.metadata()
        )
        responses = Responses(
            stub.Subscribe(Requests(fetch(1, EARLIEST)), metadata=sfps.metadata())
        )
        (response,) = await responses.with_events(1)
        await responses.close()
    assert topic.tenant_guid == sfps.state.org_id
    assert topic.can_subscribe and not topic.can_publish
    (event,) = response.events
    assert event.event.schema_id == topic.schema_id == schema.schema_id
    record = sfps.decode(schema.schema_json, event.event.payload)
    assert record["Subject"] == "task 0"
    assert record["ChangeEventHeader"]["changeOrigin"].endswith(";client=emulator-admin")


async def test_publish_and_managed_subscribe_exist_but_are_unimplemented(
    sfps: RunningPubSub,
) -> None:
    async with sfps.stub() as stub:
        with pytest.raises(grpc.aio.AioRpcError) as publish:
            await stub.Publish(pb2.PublishRequest(topic_name=TOPIC), metadata=sfps.metadata())
        managed = stub.ManagedSubscribe(
            Requests(pb2.ManagedFetchRequest()), metadata=sfps.metadata()
        )
        with pytest.raises(grpc.aio.AioRpcError) as managed_error:
            await _drain(managed)
    assert publish.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert managed_error.value.code() == grpc.StatusCode.UNIMPLEMENTED
