"""Pub/Sub API errors as Salesforce returns them: a gRPC status, a message ending in
`rpcId: <id>`, and trailers `error-code` (Salesforce's custom code) and `rpc-id`.

Documented codes (Pub/Sub API "Handle Errors" and "Retry Long-Lived RPC Calls"):

- UNAUTHENTICATED, `sfdc.platform.eventbus.grpc.service.auth.error`: "An authentication
  exception occurred. Provide valid authentication via metadata headers."
- INVALID_ARGUMENT, `sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted`:
  "The Replay ID validation failed." (corrupted, or older than the retention window).
- `sfdc.platform.eventbus.grpc.subscription.limit.exceeded`: "You have exceeded the event
  delivery limit for your org." (the gRPC status is not documented; RESOURCE_EXHAUSTED here).

Statuses the documentation names without a custom code (a later FetchRequest naming another
topic: INVALID_ARGUMENT) or does not name at all (an unknown topic: NOT_FOUND here) carry
only the `rpc-id` trailer.
"""

from __future__ import annotations

import uuid

import grpc

AUTH_ERROR = "sfdc.platform.eventbus.grpc.service.auth.error"
REPLAY_ID_CORRUPTED = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
DELIVERY_LIMIT = "sfdc.platform.eventbus.grpc.subscription.limit.exceeded"


class PubSubError(Exception):
    """Raised inside a handler; the servicer turns it into the call's final status."""

    def __init__(
        self, status: grpc.StatusCode, message: str, error_code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_code = error_code

    def trailers(self, rpc_id: str) -> tuple[tuple[str, str], ...]:
        codes = (("error-code", self.error_code),) if self.error_code else ()
        return (*codes, ("rpc-id", rpc_id))

    def details(self, rpc_id: str) -> str:
        return f"{self.message} rpcId: {rpc_id}"


def new_rpc_id() -> str:
    return str(uuid.uuid4())


def auth_error() -> PubSubError:
    return PubSubError(
        grpc.StatusCode.UNAUTHENTICATED,
        "An authentication exception occurred. Provide valid authentication via metadata headers.",
        AUTH_ERROR,
    )


def replay_id_corrupted() -> PubSubError:
    return PubSubError(
        grpc.StatusCode.INVALID_ARGUMENT, "The Replay ID validation failed.", REPLAY_ID_CORRUPTED
    )


def delivery_limit_exceeded() -> PubSubError:
    return PubSubError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "You have exceeded the event delivery limit for your org.",
        DELIVERY_LIMIT,
    )


def unknown_topic(topic: str, org_id: str) -> PubSubError:
    return PubSubError(
        grpc.StatusCode.NOT_FOUND,
        f"An error occurred while getting the metadata for org {org_id} and topic {topic}. "
        "Ensure the credentials and topic name are correct.",
    )


def topic_mismatch(first: str, later: str) -> PubSubError:
    return PubSubError(
        grpc.StatusCode.INVALID_ARGUMENT,
        f"The topic {later!r} of a FetchRequest does not match the topic {first!r} of the "
        "first FetchRequest of this Subscribe call.",
    )


def unimplemented(method: str) -> PubSubError:
    return PubSubError(
        grpc.StatusCode.UNIMPLEMENTED,
        f"The Salesforce emulator does not implement {method}; only GetTopic, GetSchema and "
        "Subscribe are served.",
    )
