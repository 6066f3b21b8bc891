"""Gap and overflow events, authentication, reconnects and the delivery allocation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager

import grpc
import pytest

from connectors.salesforce.pubsub import (
    ChangeEvent,
    Credentials,
    DeliveryLimitExceeded,
    PubSubAuthError,
    PubSubClient,
    ReplayStart,
)
from connectors.salesforce.pubsub.proto import pubsub_api_pb2 as pb2
from tests.integration.salesforce.pubsub_support import FAST, TOPIC, RunningPubSub, take

pytestmark = pytest.mark.integration
StartPubSub = Callable[..., AbstractContextManager[RunningPubSub]]


async def change_events(sfps: RunningPubSub, n: int) -> list[ChangeEvent]:
    async with (
        sfps.client() as client,
        client.subscribe(TOPIC, ReplayStart.earliest()) as subscription,
    ):
        return await take((i async for i in subscription if isinstance(i, ChangeEvent)), n)


async def test_gap_fault_turns_the_next_changes_into_header_only_gap_events(
    sfps: RunningPubSub,
) -> None:
    sfps.set_faults(gap=2)
    ids = sfps.sf.bulk("Task", [{"Subject": f"t{n}"} for n in range(3)])
    gap, full = await change_events(sfps, 2)
    assert gap.header.change_type == "GAP_CREATE" and gap.header.is_gap
    assert gap.header.record_ids == tuple(ids[:2])  # merged: same entity, same change type
    assert gap.header.change_origin == "" and gap.header.sequence_number == 1
    assert gap.values == {} and gap.changed_fields == ()
    assert full.header.change_type == "CREATE" and full.header.record_ids == (ids[2],)
    assert sfps.sf.admin("GET", "/pubsub")["faults"] == {"gap": 0, "overflow": 0}


async def test_overflow_fault_folds_changes_into_one_overflow_event_per_entity(
    sfps: RunningPubSub,
) -> None:
    sfps.set_faults(overflow=2)
    ids = sfps.sf.bulk("Task", [{"Subject": f"t{n}"} for n in range(3)])
    full, overflow = await change_events(sfps, 2)
    assert full.header.change_type == "CREATE" and full.header.record_ids == (ids[2],)
    assert overflow.header.change_type == "GAP_OVERFLOW"
    assert overflow.header.record_ids == ("000000000000000AAA",)
    assert overflow.header.entity_name == "Task" and overflow.values == {}
    assert overflow.header.transaction_key == full.header.transaction_key


@pytest.mark.parametrize("broken", ["accesstoken", "tenantid", "instanceurl"])
async def test_wrong_or_missing_metadata_is_unauthenticated_with_the_auth_error_code(
    sfps: RunningPubSub, broken: str
) -> None:
    good = dict(sfps.metadata())
    metadata = tuple(
        (key, "00D000000000000AAA" if key == "tenantid" else "wrong")
        for key, value in good.items()
        if key == broken
    ) + tuple((k, v) for k, v in good.items() if k != broken)
    async with sfps.stub() as stub:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.GetTopic(pb2.TopicRequest(topic_name=TOPIC), metadata=metadata)
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.GetTopic(
                pb2.TopicRequest(topic_name=TOPIC),
                metadata=tuple((k, v) for k, v in good.items() if k != broken),
            )
    for error in (raised.value, missing.value):
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        assert (error.details() or "").startswith(
            "An authentication exception occurred. Provide valid authentication via "
            "metadata headers. rpcId: "
        )
        trailers = dict(error.trailing_metadata() or ())
        assert trailers["error-code"] == "sfdc.platform.eventbus.grpc.service.auth.error"
        assert good["accesstoken"] not in (error.details() or "")


async def test_client_logs_in_again_when_the_token_expired(sfps: RunningPubSub) -> None:
    async with sfps.client() as client:
        await client.get_topic(TOPIC)  # logged in
        sfps.sf.admin("POST", "/expire-tokens")
        sfps.sf.bulk("Task", [{"Subject": "after expiry"}])
        async with client.subscribe(TOPIC, ReplayStart.earliest()) as subscription:
            (event,) = await take((i async for i in subscription if isinstance(i, ChangeEvent)), 1)
    assert event.values["Subject"] == "after expiry"
    assert sfps.sf.admin("GET", "/stats")["counters"]["pubsub.status.UNAUTHENTICATED"] == 1


class RefusedCredentials:
    """Credentials Salesforce never accepts, however often they are refreshed."""

    def __init__(self, sfps: RunningPubSub) -> None:
        self.creds = Credentials("00Dbad!token", sfps.sf.url, sfps.state.org_id)
        self.refreshes = 0

    async def credentials(self) -> Credentials:
        return self.creds

    async def refresh(self, stale: Credentials) -> Credentials:
        self.refreshes += 1
        return self.creds


async def test_credentials_refused_after_a_fresh_login_raise_a_config_error(
    sfps: RunningPubSub,
) -> None:
    source = RefusedCredentials(sfps)
    client = PubSubClient(source, ca_bundle=sfps.sf.cert, endpoint=sfps.endpoint, retry=FAST)
    async with client:
        with pytest.raises(PubSubAuthError, match="right after a fresh login") as raised:
            await client.get_topic(TOPIC)
        async with client.subscribe(TOPIC) as subscription:
            with pytest.raises(PubSubAuthError):
                await take(subscription, 1)
    assert "00Dbad!token" not in str(raised.value)
    assert source.refreshes == 2  # once per call, then it gives up


async def test_subscription_resumes_after_the_server_goes_away_without_loss_or_repeats(
    sfps: RunningPubSub,
) -> None:
    sfps.sf.bulk("Task", [{"Subject": "before"}])
    async with (
        sfps.client() as client,
        client.subscribe(TOPIC, ReplayStart.earliest()) as subscription,
    ):
        events = (i async for i in subscription if isinstance(i, ChangeEvent))
        (before,) = await take(events, 1)
        await asyncio.get_running_loop().run_in_executor(None, sfps.restart_grpc)
        sfps.sf.bulk("Task", [{"Subject": "during"}, {"Subject": "after"}])
        during, after = await take(events, 2)
        assert subscription.reconnects >= 1
    assert [e.values["Subject"] for e in (before, during, after)] == ["before", "during", "after"]


async def test_delivery_allocation_delivers_up_to_the_limit_then_fails_distinctly(
    start_sfps: StartPubSub,
) -> None:
    with start_sfps(event_delivery_limit=2) as sfps:
        sfps.sf.bulk("Task", [{"Subject": f"t{n}"} for n in range(3)])
        got: list[ChangeEvent] = []
        async with (
            sfps.client() as client,
            client.subscribe(TOPIC, ReplayStart.earliest()) as subscription,
        ):
            with pytest.raises(DeliveryLimitExceeded) as raised:
                async for item in subscription:
                    if isinstance(item, ChangeEvent):
                        got.append(item)
        assert [e.values["Subject"] for e in got] == ["t0", "t1"]
        assert raised.value.retry_after and raised.value.retry_after > 0
        assert sfps.sf.admin("GET", "/pubsub")["delivered_24h"] == 2
