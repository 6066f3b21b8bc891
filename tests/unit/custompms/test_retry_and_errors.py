"""The client's retry timing and its mapping of responses to sfpms errors."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from connectors.custompms.errors import (
    CustompmsAuthError,
    CustompmsFatalError,
    CustompmsRetriableError,
    NotFoundError,
    VersionMismatchError,
    error_from_status,
)
from connectors.custompms.retry import CUSTOMPMS_RETRY, parse_retry_after
from foundation.errors import FatalError, RetriableError


def test_backoff_grows_exponentially_with_full_jitter_and_is_capped() -> None:
    policy = CUSTOMPMS_RETRY.with_(base_delay_s=0.5, max_delay_s=3.0)
    rng = random.Random(0)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)]:
        delays = [policy.delay(attempt, None, rng) for _ in range(200)]
        assert min(delays) >= 0 and max(delays) <= ceiling
        assert max(delays) > ceiling * 0.8


def test_a_retry_after_is_a_floor_with_a_little_jitter() -> None:
    policy = CUSTOMPMS_RETRY.with_(spread_s=0.2)
    delays = [policy.delay(1, 5.0, random.Random(i)) for i in range(50)]
    assert all(5.0 <= d <= 5.2 for d in delays)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        (" 0 ", 0.0),
        ("Wed, 01 May 2024 12:00:30 GMT", 30.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_accepts_seconds_and_http_dates(
    header: str | None, expected: float | None
) -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after(header, now) == expected


def body(code: str, field: str | None = None) -> dict[str, object]:
    return {"error": {"code": code, "message": f"{code} happened", "field": field}}


def test_a_422_maps_to_a_fatal_error_with_code_field_and_record() -> None:
    error = error_from_status(
        422,
        body("too_long", "name"),
        action="PATCH /customers/cus_1",
        resource="customers",
        record_id="cus_1",
    )
    assert isinstance(error, CustompmsFatalError) and isinstance(error, FatalError)
    assert (error.status, error.code, error.field, error.record) == (
        422,
        "too_long",
        "name",
        "customers/cus_1",
    )
    assert "fix the named field" in str(error)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (404, NotFoundError),
        (412, VersionMismatchError),
        (409, CustompmsFatalError),
        (400, CustompmsFatalError),
    ],
)
def test_other_client_errors_are_fatal_with_their_own_class(status: int, kind: type) -> None:
    error = error_from_status(status, body("x"), action="GET /tasks", resource="tasks")
    assert type(error) is kind and error.record == "tasks"


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_rate_limits_and_server_errors_are_retriable_with_retry_after(status: int) -> None:
    error = error_from_status(
        status, None, action="GET /changes", resource="changes", retry_after=3.0
    )
    assert isinstance(error, CustompmsRetriableError) and isinstance(error, RetriableError)
    assert error.retry_after == 3.0 and error.status == status


def test_a_401_is_a_retriable_auth_error_pointing_at_the_token_setting() -> None:
    error = error_from_status(401, body("unauthorized"), action="GET /tasks", resource="tasks")
    assert isinstance(error, CustompmsAuthError) and isinstance(error, RetriableError)
    assert error.status == 401
    assert "SFPMS_CUSTOMPMS_TOKEN" in str(error)
