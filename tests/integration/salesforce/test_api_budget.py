"""The API budget in the client, against the emulator's rolling limit: pacing, the pause at
the reserve, REQUEST_LIMIT_EXCEEDED, the /limits probe and the resume."""

from __future__ import annotations

import asyncio
import time

import pytest

from connectors.salesforce import SalesforceClient
from connectors.salesforce.budget import ApiBudget, ApiBudgetPaused, BudgetPolicy
from tests.integration.salesforce.support import RunningSalesforce

pytestmark = pytest.mark.integration


def _client(sf: RunningSalesforce, budget: ApiBudget) -> SalesforceClient:
    client = SalesforceClient(sf.settings())
    client.session.budget = budget
    return client


def _used(sf: RunningSalesforce) -> int:
    usage = sf.admin("GET", "/info")["api_usage"]
    return int(usage["Max"] - usage["Remaining"])


def test_calls_pause_at_the_reserve_and_resume_when_the_window_frees(
    sf: RunningSalesforce,
) -> None:
    budget = ApiBudget(BudgetPolicy(reserve=0.2, pace_band=0.0, probe_s=0.5))
    sf.admin("POST", "/limits", json={"used": 0, "limit": 100})

    async def scenario() -> None:
        async with _client(sf, budget) as client:
            for _ in range(100):
                try:
                    await client.limits()
                except ApiBudgetPaused:
                    break
            assert budget.paused
            # The share is 80 of 100: the sync stopped there, the reserve is untouched.
            assert _used(sf) == 80
            with pytest.raises(ApiBudgetPaused) as refused:
                await client.count("SELECT COUNT() FROM Task")
            assert refused.value.retry_after is not None and refused.value.retry_after <= 0.5
            sf.admin("POST", "/limits/reset")
            await asyncio.sleep(0.6)
            assert await client.count("SELECT COUNT() FROM Task") == 0  # probed, resumed
            assert not budget.paused

    asyncio.run(scenario())


def test_request_limit_exceeded_pauses_like_the_reserve_and_nothing_is_sent_meanwhile(
    sf: RunningSalesforce,
) -> None:
    # Other integrations used everything: Salesforce itself refuses (403).
    sf.admin("POST", "/limits", json={"used": 50, "limit": 50})
    budget = ApiBudget(BudgetPolicy(reserve=0.0, probe_s=60.0))

    async def scenario() -> None:
        async with _client(sf, budget) as client:
            with pytest.raises(ApiBudgetPaused) as first:
                await client.describe("Task")
            assert first.value.error_code == "REQUEST_LIMIT_EXCEEDED"
            assert budget.paused
            sf.admin("DELETE", "/stats")
            for _ in range(5):
                with pytest.raises(ApiBudgetPaused):
                    await client.describe("Task")
            calls = sf.admin("GET", "/stats")["requests"]
            assert not [k for k in calls if "/services/data" in k], calls

    asyncio.run(scenario())


def test_calls_near_the_reserve_are_paced(sf: RunningSalesforce) -> None:
    budget = ApiBudget(BudgetPolicy(reserve=0.2, pace_band=0.1, pace_max_s=0.4))
    sf.admin("POST", "/limits", json={"used": 0, "limit": 1000})

    async def timed(client: SalesforceClient) -> float:
        started = time.monotonic()
        await client.limits()
        return time.monotonic() - started

    async def scenario() -> tuple[float, float]:
        async with _client(sf, budget) as client:
            await client.limits()
            fast = await timed(client)
            sf.admin("POST", "/limits", json={"used": 760})
            await client.limits()  # learns the usage
            slow = await timed(client)  # 761 of a share of 800, band from 700: ~0.24 s
            return fast, slow

    fast, slow = asyncio.run(scenario())
    assert slow - fast > 0.2
