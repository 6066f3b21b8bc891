from __future__ import annotations

import random

import httpx
import pytest

from connectors.salesforce.errors import (
    SalesforceApiError,
    SalesforceRetriableError,
    api_error,
    login_error,
)
from connectors.salesforce.retry import SALESFORCE_RETRY, may_resend, parse_retry_after
from foundation.errors import ConfigError, FatalError, RetriableError


def test_backoff_grows_exponentially_within_jitter_bounds() -> None:
    policy = SALESFORCE_RETRY.with_(base_delay_s=1.0, max_delay_s=100.0)
    rng = random.Random(1)
    for attempt in range(1, 6):
        ceiling = 2 ** (attempt - 1)
        delays = [policy.delay(attempt, None, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)


def test_backoff_is_capped_and_retry_after_is_a_floor() -> None:
    policy = SALESFORCE_RETRY.with_(base_delay_s=1.0, max_delay_s=3.0, spread_s=0.0)
    rng = random.Random(2)
    assert policy.delay(10, None, rng) <= 3.0
    assert policy.delay(1, 7.0, rng) == 7.0


def test_posts_are_not_retried_after_ambiguous_failures_unless_allowed() -> None:
    dropped = httpx.RemoteProtocolError("server disconnected")
    refused = httpx.ConnectError("connection refused")
    assert not may_resend("POST", dropped)
    assert may_resend("POST", refused)
    assert may_resend("PATCH", dropped)
    assert may_resend("POST", dropped, ambiguous_posts=True)


@pytest.mark.parametrize(
    ("header", "seconds"), [("5", 5.0), ("0.5", 0.5), (None, None), ("x", None)]
)
def test_retry_after_parsing(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_validation_error_becomes_fatal_error_with_code_fields_and_record() -> None:
    body = [
        {
            "message": "Required fields are missing: [Name]",
            "errorCode": "REQUIRED_FIELD_MISSING",
            "fields": ["Name"],
        }
    ]
    error = api_error(400, body, action="create Division", record="Division (new)")
    assert isinstance(error, SalesforceApiError) and isinstance(error, FatalError)
    assert error.error_code == "REQUIRED_FIELD_MISSING"
    assert error.fields == ("Name",)
    assert "Division (new)" in str(error) and "REQUIRED_FIELD_MISSING" in str(error)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttling_and_server_errors_are_retriable(status: int) -> None:
    error = api_error(
        status,
        [{"message": "busy", "errorCode": "SERVER_UNAVAILABLE"}],
        action="x",
        record=None,
        retry_after=2.0,
    )
    assert isinstance(error, SalesforceRetriableError) and isinstance(error, RetriableError)
    assert error.retry_after == 2.0


def test_daily_limit_is_retriable_later() -> None:
    body = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    error = api_error(403, body, action="query", record=None)
    assert isinstance(error, RetriableError)
    assert error.retry_after is not None and error.retry_after > 0


def test_bad_credentials_become_config_error_naming_the_setting_not_the_secret() -> None:
    body = {"error": "invalid_grant", "error_description": "authentication failure"}
    error = login_error(400, body, grant="password", username="admin@sfpms.local")
    assert isinstance(error, ConfigError)
    assert "SFPMS_SALESFORCE_PASSWORD" in str(error)
