"""`PubSubClient`: the Salesforce Pub/Sub API over gRPC (grpc.aio, TLS).

    async with PubSubClient(SessionCredentials(session), ca_bundle=settings.salesforce_verify(),
                            endpoint="api.pubsub.salesforce.com:7443") as client:
        async for item in client.subscribe("/data/TaskChangeEvent", ReplayStart.after(saved)):
            ...  # ChangeEvent or KeepAlive

Unary calls (GetTopic, GetSchema) are retried on UNAVAILABLE with the REST client's backoff
policy and re-authenticated once on UNAUTHENTICATED; schemas are cached by id. The
Subscribe stream is in `stream.py`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import grpc

from connectors.salesforce.pubsub.credentials import Credentials, CredentialSource
from connectors.salesforce.pubsub.errors import (
    AUTH_ERROR,
    DELIVERY_LIMIT,
    DELIVERY_LIMIT_RETRY_S,
    REPLAY_ID_CORRUPTED,
    REPLAY_ID_VALIDATION_FAILED,
    DeliveryLimitExceeded,
    PubSubApiError,
    PubSubAuthError,
    PubSubUnavailable,
    ReplayIdInvalid,
)
from connectors.salesforce.pubsub.events import EventSchema
from connectors.salesforce.pubsub.proto import pubsub_api_pb2 as pb2
from connectors.salesforce.pubsub.proto import pubsub_api_pb2_grpc as pb2_grpc
from connectors.salesforce.retry import SALESFORCE_RETRY, RetryPolicy
from foundation.errors import ConfigError

if TYPE_CHECKING:
    from connectors.salesforce.pubsub.stream import ReplayStart, Subscription

log = logging.getLogger("connectors.salesforce.pubsub")

#: Salesforce's global Pub/Sub API endpoint.
DEFAULT_ENDPOINT = "api.pubsub.salesforce.com:7443"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TopicInfo:
    name: str
    tenant_id: str
    can_subscribe: bool
    can_publish: bool
    schema_id: str


def channel_credentials(ca_bundle: str | Path | bool) -> Any:
    """TLS credentials from `Settings.salesforce_verify()` (a CA file path, or True)."""
    if ca_bundle is False:
        raise ConfigError(
            "the Salesforce Pub/Sub API is TLS-only and its certificate is always verified; "
            "set SFPMS_SALESFORCE_CA_BUNDLE to the CA file instead of turning verification off"
        )
    if ca_bundle is True:
        return grpc.ssl_channel_credentials()
    try:
        return grpc.ssl_channel_credentials(root_certificates=Path(ca_bundle).read_bytes())
    except OSError as exc:
        raise ConfigError(
            f"cannot read the Salesforce CA bundle {ca_bundle}: {exc}; start the emulator "
            "(it writes its certificate there) or set SFPMS_SALESFORCE_CA_BUNDLE"
        ) from exc


def trailer(exc: grpc.aio.AioRpcError, key: str) -> str | None:
    for item in exc.trailing_metadata() or ():
        if item[0] == key and isinstance(item[1], str):
            return str(item[1])
    return None


def classify(exc: grpc.aio.AioRpcError, *, topic: str, replay_id: bytes = b"") -> Exception:
    """The product error for a failed call (UNAVAILABLE and auth are handled by callers)."""
    code = trailer(exc, "error-code")
    rpc_id = trailer(exc, "rpc-id")
    details = exc.details() or ""
    if code in (REPLAY_ID_CORRUPTED, REPLAY_ID_VALIDATION_FAILED):
        return ReplayIdInvalid(
            f"Salesforce refused the replay id {replay_id.hex() or '(none)'} for {topic} "
            f"({details}); it is corrupted or older than the 72-hour retention window, so "
            "events may be missing: reconcile the records, then subscribe from LATEST",
            topic=topic,
            replay_id=replay_id,
            rpc_id=rpc_id,
        )
    if code == DELIVERY_LIMIT:
        return DeliveryLimitExceeded(
            f"the org's event delivery allocation is used up ({details}); events stay on "
            f"the bus for 72 hours, subscribe {topic} again later",
            retry_after=DELIVERY_LIMIT_RETRY_S,
        )
    if exc.code() == grpc.StatusCode.UNAUTHENTICATED or code == AUTH_ERROR:
        return PubSubAuthError(
            f"the Pub/Sub API refused the Salesforce session for {topic} right after a "
            f"fresh login ({details}); check the integration user's API and Change Data "
            "Capture permissions and the org id"
        )
    return PubSubApiError(
        f"Pub/Sub API call for {topic} failed: {exc.code().name}: {details}",
        status=exc.code().name,
        error_code=code,
        rpc_id=rpc_id,
        topic=topic,
    )


class PubSubClient:
    """One TLS channel to the Pub/Sub API, authenticated from a `CredentialSource`."""

    def __init__(
        self,
        credentials: CredentialSource,
        *,
        ca_bundle: str | Path | bool,
        endpoint: str = DEFAULT_ENDPOINT,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.source = credentials
        self.endpoint = endpoint
        self.retry = retry or SALESFORCE_RETRY
        self.rng = rng or random.Random()
        self._credentials = channel_credentials(ca_bundle)
        self._channel: Any = None
        self._stub: Any = None
        self._schemas: dict[str, EventSchema] = {}

    @property
    def stub(self) -> Any:
        """The PubSub stub; the channel is made on first use, inside the running loop."""
        if self._stub is None:
            self._channel = grpc.aio.secure_channel(self.endpoint, self._credentials)
            self._stub = pb2_grpc.PubSubStub(self._channel)
        return self._stub

    async def __aenter__(self) -> PubSubClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = self._stub = None

    async def pause(self, attempt: int, why: str) -> None:
        delay = self.retry.delay(attempt, None, self.rng)
        log.info("Pub/Sub API %s; retry %d in %.2fs", why, attempt, delay)
        await asyncio.sleep(delay)

    async def call(
        self, topic: str, rpc: Callable[[tuple[tuple[str, str], ...]], Awaitable[T]]
    ) -> T:
        """Run a unary RPC with auth refresh and UNAVAILABLE retries."""
        creds: Credentials = await self.source.credentials()
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                return await rpc(creds.metadata())
            except grpc.aio.AioRpcError as exc:
                if exc.code() == grpc.StatusCode.UNAUTHENTICATED and not refreshed:
                    refreshed = True
                    creds = await self.source.refresh(creds)
                    continue
                if exc.code() != grpc.StatusCode.UNAVAILABLE:
                    raise classify(exc, topic=topic) from exc
                if self.retry.exhausted(attempt):
                    raise PubSubUnavailable(
                        f"the Pub/Sub API at {self.endpoint} stayed unavailable for {topic} "
                        f"after {attempt} attempts: {exc.details()}"
                    ) from exc
                await self.pause(attempt, f"unavailable ({exc.details()})")

    async def get_topic(self, topic: str) -> TopicInfo:
        """GetTopic: the topic's current schema id and permissions."""
        info = await self.call(
            topic, lambda md: self.stub.GetTopic(pb2.TopicRequest(topic_name=topic), metadata=md)
        )
        return TopicInfo(
            info.topic_name, info.tenant_guid, info.can_subscribe, info.can_publish, info.schema_id
        )

    async def get_schema(self, schema_id: str, *, topic: str = "") -> EventSchema:
        """GetSchema, cached: every event names the schema it was written with."""
        cached = self._schemas.get(schema_id)
        if cached is not None:
            return cached
        info = await self.call(
            topic or schema_id,
            lambda md: self.stub.GetSchema(pb2.SchemaRequest(schema_id=schema_id), metadata=md),
        )
        schema = EventSchema.parse(schema_id, info.schema_json)
        self._schemas[schema_id] = schema
        return schema

    def subscribe(
        self, topic: str, start: ReplayStart | None = None, *, batch_size: int = 100
    ) -> Subscription:
        """A `Subscription` (async iterator of ChangeEvent | KeepAlive); see stream.py."""
        from connectors.salesforce.pubsub.stream import ReplayStart, Subscription

        return Subscription(self, topic, start or ReplayStart.latest(), batch_size=batch_size)
