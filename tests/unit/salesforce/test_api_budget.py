"""The API budget: admission decisions (pure), pause and resume, probes, REQUEST_LIMIT_EXCEEDED."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.salesforce.budget import (
    ApiBudget,
    ApiBudgetPaused,
    BudgetPolicy,
    admission,
    budget_for,
)
from connectors.salesforce.types import ApiUsage
from foundation import metrics
from foundation.settings import Settings

POLICY = BudgetPolicy(reserve=0.2, pace_band=0.1, pace_max_s=2.0, probe_s=60.0)


def paused_gauge() -> float:
    return metrics.API_BUDGET_PAUSED.labels("salesforce")._value.get()


@pytest.mark.parametrize(
    ("used", "paused", "delay"),
    [
        (0, False, 0.0),
        (6_999, False, 0.0),
        (7_000, False, 0.0),  # the pace band starts at share - 10 % of the limit
        (7_500, False, 1.0),
        (7_999, False, pytest.approx(1.998)),
        (8_000, True, 0.0),  # the share: 80 % of 10,000
        (10_000, True, 0.0),
        (10_500, True, 0.0),
    ],
)
def test_calls_go_then_are_paced_then_pause_at_the_reserve(
    used: int, paused: bool, delay: float
) -> None:
    decision = admission(POLICY, ApiUsage(used, 10_000))
    assert (decision.paused, decision.delay) == (paused, delay)


def test_unknown_usage_lets_calls_go() -> None:
    assert admission(POLICY, None).paused is False
    assert admission(POLICY, ApiUsage(5, 0)).paused is False


@given(st.integers(min_value=1, max_value=10**7), st.floats(min_value=0, max_value=0.99))
def test_the_sync_never_goes_past_its_share(limit: int, reserve: float) -> None:
    policy = BudgetPolicy(reserve=reserve)
    share = policy.share(limit)
    assert share + policy.reserved(limit) == limit
    assert policy.reserved(limit) >= limit * reserve
    assert admission(policy, ApiUsage(share, limit)).paused
    if share > 0:
        assert not admission(policy, ApiUsage(share - 1, limit)).paused


def test_a_bad_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="reserve"):
        BudgetPolicy(reserve=1.0)
    with pytest.raises(ValueError, match="probe_s"):
        BudgetPolicy(probe_s=0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_at_the_reserve_calls_are_refused_until_a_probe_sees_the_window_freed() -> None:
    clock = Clock()
    budget = ApiBudget(BudgetPolicy(probe_s=30.0), clock=clock)
    probes: list[float] = []
    usage_after_probe = [ApiUsage(9_000, 10_000)]

    async def probe() -> None:
        probes.append(clock.now)
        budget.observe(usage_after_probe[0])

    async def scenario() -> None:
        budget.observe(ApiUsage(8_500, 10_000))
        assert budget.paused and paused_gauge() == 1.0
        # Refused at once, no call spent: the answer that paused it is fresh.
        with pytest.raises(ApiBudgetPaused) as first:
            await budget.admit(probe, "query")
        assert first.value.error_code == "REQUEST_LIMIT_EXCEEDED"
        assert first.value.budget_paused and first.value.retry_after == 30.0
        assert "reserved for the org's other integrations" in str(first.value)
        assert probes == []
        # Once the probe interval has passed, one refused call probes (still over).
        clock.now += 31
        with pytest.raises(ApiBudgetPaused):
            await budget.admit(probe, "query")
        clock.now += 10
        with pytest.raises(ApiBudgetPaused):
            await budget.admit(probe, "query")
        assert len(probes) == 1
        # The rolling window frees calls: the next due probe sees it and the call goes.
        usage_after_probe[0] = ApiUsage(2_000, 10_000)
        clock.now += 25
        await budget.admit(probe, "query")
        assert len(probes) == 2 and not budget.paused and paused_gauge() == 0.0

    asyncio.run(scenario())
    assert budget.pauses == 1


def test_request_limit_exceeded_pauses_the_budget_like_its_own_reserve() -> None:
    budget = ApiBudget(POLICY)
    budget.observe(ApiUsage(100, 10_000))
    budget.refused()
    assert budget.paused and budget.usage == ApiUsage(10_000, 10_000)
    budget.observe(ApiUsage(100, 10_000))  # a later answer (the window rolled)
    assert not budget.paused


def test_the_reserve_gauge_counts_the_calls_left_to_others() -> None:
    budget = ApiBudget(BudgetPolicy(reserve=0.25))
    budget.observe(ApiUsage(10, 1_000))
    assert metrics.API_BUDGET_RESERVE.labels("salesforce")._value.get() == 250.0


def test_sessions_of_one_process_share_the_budget_of_their_org() -> None:
    a = Settings(salesforce_url="https://org-a.example.com")
    b = Settings(salesforce_url="https://org-b.example.com")
    assert budget_for(a) is budget_for(a.model_copy())
    assert budget_for(a) is not budget_for(b)
