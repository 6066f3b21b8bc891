"""Replay presets, resuming by replay id, and refused replay ids (the product's client)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import grpc
import pytest

from connectors.salesforce.pubsub import ChangeEvent, KeepAlive, ReplayIdInvalid, ReplayStart
from connectors.salesforce.pubsub.proto import pubsub_api_pb2 as pb2
from tests.integration.salesforce.pubsub_support import (
    TOPIC,
    Requests,
    Responses,
    RunningPubSub,
    fetch,
    take,
)

pytestmark = pytest.mark.integration
StartPubSub = Callable[..., AbstractContextManager[RunningPubSub]]


def write(sfps: RunningPubSub, *subjects: str) -> list[str]:
    return sfps.sf.bulk("Task", [{"Subject": s} for s in subjects])


async def first_events(sfps: RunningPubSub, start: ReplayStart, n: int) -> list[ChangeEvent]:
    async with sfps.client() as client, client.subscribe(TOPIC, start) as subscription:
        return await take((i async for i in subscription if isinstance(i, ChangeEvent)), n)


async def test_latest_starts_after_the_newest_event(sfps: RunningPubSub) -> None:
    write(sfps, "old 1", "old 2")
    async with sfps.client() as client, client.subscribe(TOPIC) as subscription:
        items = aiter(subscription)
        (keepalive,) = await take(items, 1)  # the stream is open: nothing old is replayed
        assert isinstance(keepalive, KeepAlive)
        write(sfps, "new")
        (event,) = await take((i async for i in items if isinstance(i, ChangeEvent)), 1)
    assert event.values["Subject"] == "new"


async def test_earliest_replays_every_retained_event_in_order(sfps: RunningPubSub) -> None:
    write(sfps, "a")
    write(sfps, "b")
    write(sfps, "c")
    events = await first_events(sfps, ReplayStart.earliest(), 3)
    assert [e.values["Subject"] for e in events] == ["a", "b", "c"]


async def test_custom_resumes_right_after_the_stored_replay_id(sfps: RunningPubSub) -> None:
    for subject in ("a", "b", "c"):
        write(sfps, subject)
    _, second, _ = await first_events(sfps, ReplayStart.earliest(), 3)
    (resumed,) = await first_events(sfps, ReplayStart.after(second.replay_id), 1)
    assert resumed.values["Subject"] == "c"


async def test_a_keepalive_position_is_a_valid_resume_point(sfps: RunningPubSub) -> None:
    write(sfps, "seen")
    async with sfps.client() as client, client.subscribe(TOPIC) as subscription:
        (keepalive,) = await take((i async for i in subscription if isinstance(i, KeepAlive)), 1)
        assert subscription.latest_replay_id == keepalive.latest_replay_id
    write(sfps, "after the keepalive")
    (event,) = await first_events(sfps, ReplayStart.after(keepalive.latest_replay_id), 1)
    assert event.values["Subject"] == "after the keepalive"


async def test_a_replay_id_older_than_the_retention_window_is_refused(
    start_sfps: StartPubSub,
) -> None:
    # A retention long enough that "third" is still kept when it is read back on a loaded
    # machine (0.6 s was not: the last read then found nothing and timed out).
    with start_sfps(event_retention_s=3.0) as sfps:
        write(sfps, "first")
        write(sfps, "second")
        first, _ = await first_events(sfps, ReplayStart.earliest(), 2)
        await asyncio.sleep(3.3)
        write(sfps, "third")  # "second" has expired, so resuming after "first" would lose it
        with pytest.raises(ReplayIdInvalid) as raised:
            await first_events(sfps, ReplayStart.after(first.replay_id), 1)
        assert raised.value.replay_id == first.replay_id
        assert raised.value.rpc_id
        assert "reconcile" in str(raised.value)
        # The newest position stays valid: nothing after it was lost.
        (third,) = await first_events(sfps, ReplayStart.earliest(), 1)
        assert third.values["Subject"] == "third"


@pytest.mark.parametrize(
    "replay_id", [b"not-a-replay-id", (10**6).to_bytes(8, "big")], ids=["corrupted", "future"]
)
async def test_a_corrupted_or_never_issued_replay_id_is_refused(
    sfps: RunningPubSub, replay_id: bytes
) -> None:
    write(sfps, "only")
    with pytest.raises(ReplayIdInvalid):
        await first_events(sfps, ReplayStart.after(replay_id), 1)


async def test_refused_replay_id_is_invalid_argument_with_salesforces_error_code(
    sfps: RunningPubSub,
) -> None:
    async with sfps.stub() as stub:
        call = stub.Subscribe(
            Requests(fetch(1, pb2.ReplayPreset.CUSTOM, b"\x01\x02")), metadata=sfps.metadata()
        )
        responses = Responses(call)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await responses.next()
    error = raised.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (error.details() or "").startswith("The Replay ID validation failed. rpcId: ")
    trailers = dict(error.trailing_metadata() or ())
    assert trailers["error-code"] == (
        "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
    )
    assert trailers["rpc-id"] in (error.details() or "")


async def test_replay_ids_survive_a_restart_of_an_emulator_with_a_database_file(
    start_sfps: StartPubSub, tmp_path: Path
) -> None:
    db = tmp_path / "salesforce.db"
    with start_sfps(db_path=db) as sfps:
        write(sfps, "before restart")
        (before,) = await first_events(sfps, ReplayStart.earliest(), 1)
    with start_sfps(db_path=db) as sfps:
        write(sfps, "after restart")
        (after,) = await first_events(sfps, ReplayStart.after(before.replay_id), 1)
    assert after.values["Subject"] == "after restart"
    assert after.header.commit_number > before.header.commit_number
    assert after.replay_id > before.replay_id  # same width, later position
