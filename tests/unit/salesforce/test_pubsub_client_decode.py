"""The client's pure parts: event decoding, credentials and error classification."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

import fastavro
import grpc
import pytest

from connectors.salesforce.pubsub import (
    Credentials,
    DeliveryLimitExceeded,
    EventDecodeError,
    EventSchema,
    PubSubApiError,
    PubSubAuthError,
    ReplayIdInvalid,
)
from connectors.salesforce.pubsub.client import channel_credentials, classify
from connectors.salesforce.pubsub.credentials import org_id_from_identity_url
from connectors.salesforce.pubsub.events import decode_event
from emulators.salesforce.pubsub.avro_schema import change_event_schema
from emulators.salesforce.schema import TASK
from foundation.errors import ConfigError

SERVER_SCHEMA = change_event_schema(TASK)
SCHEMA = EventSchema.parse(SERVER_SCHEMA.schema_id, SERVER_SCHEMA.schema_json)


def payload(**fields: Any) -> bytes:
    header = {
        "entityName": "Task",
        "recordIds": ["00T000000000001AAA"],
        "changeType": "UPDATE",
        "changeOrigin": "com/salesforce/api/rest/60.0;client=sfpms",
        "transactionKey": "tx",
        "sequenceNumber": 1,
        "commitTimestamp": 1_777_000_000_123,
        "commitNumber": 7,
        "commitUser": "005000000000001AAA",
        "nulledFields": ["0x2000"],  # position 13: Description
        "diffFields": [],
        "changedFields": ["0x2108"],  # positions 3, 8, 13
    }
    record = dict.fromkeys((f.name for f in SERVER_SCHEMA.fields), None)
    record.update(fields)
    buffer = io.BytesIO()
    fastavro.schemaless_writer(
        buffer, SERVER_SCHEMA.parsed, {"ChangeEventHeader": header, **record}
    )
    return buffer.getvalue()


def test_decoded_event_has_typed_header_field_names_and_converted_values() -> None:
    midnight = int(datetime(2026, 6, 1, tzinfo=UTC).timestamp() * 1000)
    event = decode_event(
        SCHEMA,
        payload(LastModifiedDate=1_777_000_000_123, ActivityDate=midnight),
        replay_id=b"\x00" * 7 + b"\x05",
        event_id="e1",
    )
    assert event.header.client_name == "sfpms" and not event.header.is_gap
    assert event.header.commit_timestamp == datetime(2026, 4, 24, 3, 6, 40, 123000, tzinfo=UTC)
    assert event.changed_fields == ("LastModifiedDate", "ActivityDate", "Description")
    assert event.nulled_fields == ("Description",)
    assert event.values == {
        "LastModifiedDate": datetime(2026, 4, 24, 3, 6, 40, 123000, tzinfo=UTC),
        "ActivityDate": date(2026, 6, 1),
    }
    assert event.replay_id[-1] == 5 and event.schema_id == SERVER_SCHEMA.schema_id


def test_a_payload_that_does_not_fit_its_schema_is_a_clear_decode_error() -> None:
    with pytest.raises(EventDecodeError, match="does not decode with schema"):
        decode_event(SCHEMA, b"\x01\x02", replay_id=b"\x00" * 8, event_id="broken")


def test_credentials_never_show_the_token() -> None:
    creds = Credentials(
        "00D!secret-token", "https://example.my.salesforce.com", "00D000000000001AAA"
    )
    assert "secret-token" not in repr(creds) and "secret-token" not in str(creds)
    assert dict(creds.metadata())["tenantid"] == "00D000000000001AAA"


def test_org_id_comes_from_the_identity_url() -> None:
    url = "https://login.salesforce.com/id/00D5e0000000001EAA/0055e0000000001AAA"
    assert org_id_from_identity_url(url) == "00D5e0000000001EAA"
    with pytest.raises(ConfigError, match="org id"):
        org_id_from_identity_url("https://example.com/services/oauth2/userinfo")


def test_turning_tls_verification_off_is_refused() -> None:
    with pytest.raises(ConfigError, match="TLS-only"):
        channel_credentials(False)
    with pytest.raises(ConfigError, match="cannot read the Salesforce CA bundle"):
        channel_credentials("/nonexistent/ca.pem")


class FakeRpcError(grpc.aio.AioRpcError):
    def __init__(self, code: grpc.StatusCode, details: str, trailers: dict[str, str]) -> None:
        super().__init__(
            code, grpc.aio.Metadata(), grpc.aio.Metadata(*trailers.items()), details, None
        )


@pytest.mark.parametrize(
    ("code", "trailer", "error"),
    [
        (
            grpc.StatusCode.INVALID_ARGUMENT,
            "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted",
            ReplayIdInvalid,
        ),
        (
            grpc.StatusCode.INVALID_ARGUMENT,
            "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.validation.failed",
            ReplayIdInvalid,
        ),
        (
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "sfdc.platform.eventbus.grpc.subscription.limit.exceeded",
            DeliveryLimitExceeded,
        ),
        (
            grpc.StatusCode.UNAUTHENTICATED,
            "sfdc.platform.eventbus.grpc.service.auth.error",
            PubSubAuthError,
        ),
        (grpc.StatusCode.NOT_FOUND, "", PubSubApiError),
    ],
)
def test_failed_calls_become_distinct_product_errors(
    code: grpc.StatusCode, trailer: str, error: type[Exception]
) -> None:
    trailers = {"rpc-id": "r-1", **({"error-code": trailer} if trailer else {})}
    found = classify(FakeRpcError(code, "details", trailers), topic="/data/TaskChangeEvent")
    assert isinstance(found, error)
    if isinstance(found, ReplayIdInvalid | PubSubApiError):
        assert found.rpc_id == "r-1"
