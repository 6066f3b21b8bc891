"""The `eventbus.v1.PubSub` servicer: GetTopic, GetSchema and Subscribe; the rest UNIMPLEMENTED.

Every call is authenticated from its metadata first; every response and error carries an
`rpc_id`. Calls and outcomes are counted in the emulator's stats under `counters`
(`pubsub.rpc.<Method>`, `pubsub.status.<CODE>`). Pub/Sub calls leave the REST API request
allocation (`Sforce-Limit-Info`) untouched; delivered events count against the event
delivery allocation instead (see `subscription.py` and docs/salesforce-emulator.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc

from emulators.common.stats import RequestStats
from emulators.salesforce.accounts import Accounts
from emulators.salesforce.pubsub.auth import Principal, authenticate
from emulators.salesforce.pubsub.bus import ChangeEventBus
from emulators.salesforce.pubsub.errors import PubSubError, new_rpc_id, unimplemented, unknown_topic
from emulators.salesforce.pubsub.proto import pubsub_api_pb2 as pb2
from emulators.salesforce.pubsub.proto import pubsub_api_pb2_grpc as pb2_grpc
from emulators.salesforce.pubsub.subscription import (
    DeliveryAllocation,
    SubscribeOptions,
    stream_events,
)


@dataclass(frozen=True, slots=True)
class ServiceParts:
    bus: ChangeEventBus
    accounts: Accounts
    stats: RequestStats
    org_id: str
    options: SubscribeOptions
    allocation: DeliveryAllocation


class PubSubService(pb2_grpc.PubSubServicer):
    """Serves one emulated org's change event topics."""

    def __init__(self, parts: ServiceParts) -> None:
        self.parts = parts

    # -- plumbing --------------------------------------------------------------------------

    def _begin(self, method: str, context: Any) -> Principal:
        """Count the call and authenticate it (PubSubError when refused)."""
        self.parts.stats.count(f"pubsub.rpc.{method}")
        return authenticate(context.invocation_metadata(), self.parts.accounts, self.parts.org_id)

    async def _fail(self, context: Any, error: PubSubError, rpc_id: str) -> None:
        self.parts.stats.count(f"pubsub.status.{error.status.name}")
        await context.abort(
            error.status, error.details(rpc_id), trailing_metadata=error.trailers(rpc_id)
        )

    # -- unary RPCs ------------------------------------------------------------------------

    async def GetTopic(self, request: Any, context: Any) -> Any:
        rpc_id = new_rpc_id()
        try:
            self._begin("GetTopic", context)
            schema = self.parts.bus.schema(request.topic_name)
            if schema is None:
                raise unknown_topic(request.topic_name, self.parts.org_id)
        except PubSubError as error:
            await self._fail(context, error, rpc_id)
            raise AssertionError("unreachable: abort raises") from error
        return pb2.TopicInfo(
            topic_name=schema.topic,
            tenant_guid=self.parts.org_id,
            # Change events are published by Salesforce only.
            can_publish=False,
            can_subscribe=True,
            schema_id=schema.schema_id,
            rpc_id=rpc_id,
        )

    async def GetSchema(self, request: Any, context: Any) -> Any:
        rpc_id = new_rpc_id()
        try:
            self._begin("GetSchema", context)
            text = self.parts.bus.schema_json(request.schema_id)
            if text is None:
                raise PubSubError(
                    grpc.StatusCode.NOT_FOUND, f"No schema with id {request.schema_id!r}."
                )
        except PubSubError as error:
            await self._fail(context, error, rpc_id)
            raise AssertionError("unreachable: abort raises") from error
        return pb2.SchemaInfo(schema_json=text, schema_id=request.schema_id, rpc_id=rpc_id)

    async def Publish(self, request: Any, context: Any) -> Any:
        await self._unimplemented("Publish", context)

    # -- streams -----------------------------------------------------------------------------

    async def Subscribe(
        self, request_iterator: AsyncIterator[Any], context: Any
    ) -> AsyncIterator[Any]:
        rpc_id = new_rpc_id()
        try:
            # Read the first FetchRequest before answering anything: failing a call whose
            # client is still writing its first message makes grpc.aio clients report
            # INTERNAL instead of the status sent.
            first = await anext(aiter(request_iterator), None)
            self._begin("Subscribe", context)
            if first is None:
                return
            self.parts.stats.count("pubsub.fetch_requests")
            async for response in stream_events(
                self.parts.bus,
                first,
                _counted(request_iterator, self.parts.stats),
                org_id=self.parts.org_id,
                rpc_id=rpc_id,
                options=self.parts.options,
                allocation=self.parts.allocation,
                stats=self.parts.stats,
            ):
                yield response
        except PubSubError as error:
            await self._fail(context, error, rpc_id)

    async def PublishStream(
        self, request_iterator: AsyncIterator[Any], context: Any
    ) -> AsyncIterator[Any]:
        await anext(aiter(request_iterator), None)  # see Subscribe: read before failing
        await self._unimplemented("PublishStream", context)
        yield  # pragma: no cover - makes this an async generator, as the stream needs

    async def ManagedSubscribe(
        self, request_iterator: AsyncIterator[Any], context: Any
    ) -> AsyncIterator[Any]:
        await anext(aiter(request_iterator), None)
        await self._unimplemented("ManagedSubscribe", context)
        yield  # pragma: no cover

    async def _unimplemented(self, method: str, context: Any) -> None:
        rpc_id = new_rpc_id()
        try:
            self._begin(method, context)
            error = unimplemented(method)
        except PubSubError as auth:
            error = auth
        await self._fail(context, error, rpc_id)


async def _counted(requests: AsyncIterator[Any], stats: RequestStats) -> AsyncIterator[Any]:
    async for request in requests:
        stats.count("pubsub.fetch_requests")
        yield request
