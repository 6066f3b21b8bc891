"""The Salesforce Pub/Sub API client (gRPC over TLS): typed change events with flow control.

See docs/pubsub.md. `PubSubClient` + `SessionCredentials` connect with the product's OAuth
session; `client.subscribe(topic, ReplayStart...)` yields `ChangeEvent` / `KeepAlive`.
"""

from connectors.salesforce.pubsub.bitmap import BitmapError, SchemaField, decode_bitmap
from connectors.salesforce.pubsub.client import DEFAULT_ENDPOINT, PubSubClient, TopicInfo
from connectors.salesforce.pubsub.credentials import (
    Credentials,
    CredentialSource,
    SessionCredentials,
)
from connectors.salesforce.pubsub.errors import (
    DeliveryLimitExceeded,
    PubSubApiError,
    PubSubAuthError,
    PubSubUnavailable,
    ReplayIdInvalid,
)
from connectors.salesforce.pubsub.events import (
    ChangeEvent,
    ChangeEventHeader,
    EventDecodeError,
    EventSchema,
    KeepAlive,
)
from connectors.salesforce.pubsub.stream import ReplayStart, Subscription

__all__ = [
    "DEFAULT_ENDPOINT",
    "BitmapError",
    "ChangeEvent",
    "ChangeEventHeader",
    "CredentialSource",
    "Credentials",
    "DeliveryLimitExceeded",
    "EventDecodeError",
    "EventSchema",
    "KeepAlive",
    "PubSubApiError",
    "PubSubAuthError",
    "PubSubClient",
    "PubSubUnavailable",
    "ReplayIdInvalid",
    "ReplayStart",
    "SchemaField",
    "SessionCredentials",
    "Subscription",
    "TopicInfo",
    "decode_bitmap",
]
