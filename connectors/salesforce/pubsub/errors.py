"""Errors of the Pub/Sub API client, in the product's hierarchy (`sfpms.errors`).

- `ReplayIdInvalid` (Fatal): Salesforce refused the stored replay id (corrupted or older
  than the 72-hour retention window). Events may be lost: reconcile (e.g. a full
  re-read of the records), then subscribe again from LATEST or EARLIEST.
- `PubSubAuthError` (Config): the session was refused even right after a fresh login.
- `PubSubUnavailable` (Retriable): the service stayed unavailable through the reconnects.
- `DeliveryLimitExceeded` (Retriable, retry_after): the org's 24-hour event delivery
  allocation is used up; events keep accumulating on the bus for 72 hours.
- `PubSubApiError` (Fatal): any other refusal (unknown topic, bad request), with the gRPC
  status, Salesforce's `error-code` trailer and the `rpc-id` Salesforce support asks for.

Messages never contain the access token.
"""

from __future__ import annotations

from foundation.errors import ConfigError, FatalError, RetriableError

REPLAY_ID_CORRUPTED = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
REPLAY_ID_VALIDATION_FAILED = (
    "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.validation.failed"
)
AUTH_ERROR = "sfdc.platform.eventbus.grpc.service.auth.error"
DELIVERY_LIMIT = "sfdc.platform.eventbus.grpc.subscription.limit.exceeded"
#: How long to wait before resubscribing after the delivery allocation ran out.
DELIVERY_LIMIT_RETRY_S = 900.0


class ReplayIdInvalid(FatalError):
    """The replay id to resume from is no longer (or never was) valid."""

    def __init__(self, message: str, *, topic: str, replay_id: bytes, rpc_id: str | None) -> None:
        self.topic = topic
        self.replay_id = replay_id
        self.rpc_id = rpc_id
        super().__init__(message)


class PubSubAuthError(ConfigError):
    """The Pub/Sub API refused the session's credentials after a fresh login."""


class PubSubUnavailable(RetriableError):
    """The Pub/Sub API could not be reached, or kept dropping the stream."""


class DeliveryLimitExceeded(RetriableError):
    """The org's event delivery allocation (rolling 24 hours) is used up."""


class PubSubApiError(FatalError):
    """The Pub/Sub API refused the call; it will fail again unchanged."""

    def __init__(
        self, message: str, *, status: str, error_code: str | None, rpc_id: str | None, topic: str
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.rpc_id = rpc_id
        self.topic = topic
        super().__init__(message)
