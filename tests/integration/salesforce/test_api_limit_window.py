"""The daily API allocation: header on every response, /limits, refusal, rolling window."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

from connectors.salesforce import SalesforceClient, SalesforceRetriableError
from tests.integration.salesforce.support import RunningSalesforce

pytestmark = pytest.mark.integration

Starter = Callable[..., AbstractContextManager[RunningSalesforce]]


def test_every_rest_response_carries_the_usage_and_limits_agrees(start_sf: Starter) -> None:
    with start_sf(api_daily_limit=50) as sf:
        token = sf.token()
        ok = sf.api("GET", "/sobjects", token)
        missing = sf.api("GET", "/sobjects/Task/00T000000000000AAA", token)
        assert ok.headers["Sforce-Limit-Info"] == "api-usage=1/50"
        assert (
            missing.status_code == 404 and missing.headers["Sforce-Limit-Info"] == "api-usage=2/50"
        )
        limits = sf.api("GET", "/limits", token).json()
        assert limits["DailyApiRequests"] == {"Max": 50, "Remaining": 47}


def test_past_the_limit_calls_are_refused_until_the_window_rolls(start_sf: Starter) -> None:
    with start_sf(api_daily_limit=3, api_limit_window_s=1.5) as sf:
        token = sf.token()
        for _ in range(3):
            assert sf.api("GET", "/sobjects", token).status_code == 200
        refused = sf.api("GET", "/sobjects", token)
        assert refused.status_code == 403
        assert refused.json() == [
            {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
        ]
        time.sleep(1.7)  # the calls of the first slices fall out of the rolling window
        assert sf.api("GET", "/sobjects", token).headers["Sforce-Limit-Info"] == "api-usage=1/3"


def test_the_admin_routes_advance_and_reset_the_window(sf: RunningSalesforce) -> None:
    token = sf.token()
    sf.api("GET", "/sobjects", token)
    assert sf.admin("POST", "/limits", json={"used": 99_999})["Remaining"] == 1
    assert sf.admin("POST", "/limits/advance", json={"seconds": 25 * 3600})["Remaining"] == 100_000
    sf.api("GET", "/sobjects", token)
    assert sf.admin("POST", "/limits/reset")["Remaining"] == 100_000


async def test_the_client_exposes_the_latest_usage_and_treats_the_limit_as_retriable(
    start_sf: Starter,
) -> None:
    with start_sf(api_daily_limit=4) as sf:
        async with SalesforceClient(sf.settings()) as salesforce:
            await salesforce.limits()
            assert salesforce.api_usage is not None
            assert tuple(salesforce.api_usage) == (1, 4)
            sf.admin("POST", "/limits", json={"used": 4})
            with pytest.raises(SalesforceRetriableError) as raised:
                await salesforce.limits()
        assert raised.value.error_code == "REQUEST_LIMIT_EXCEEDED"
        assert salesforce.api_usage is not None and salesforce.api_usage.used == 4
