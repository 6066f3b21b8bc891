"""The product's one retry policy: backoff, jitter, Retry-After, bounds, and the runner."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from foundation.errors import FatalError, RetriableError
from foundation.retry import RetryPolicy, parse_retry_after


def test_backoff_grows_exponentially_is_capped_and_jitter_stays_in_its_bounds() -> None:
    rng = random.Random(0)
    for jitter, low in (("full", 0.0), ("equal", 0.5), ("none", 1.0)):
        policy = RetryPolicy(base_delay_s=1.0, max_delay_s=8.0, jitter=jitter)  # type: ignore[arg-type]
        for attempt, ceiling in ((1, 1.0), (2, 2.0), (4, 8.0), (40, 8.0)):
            waits = [policy.backoff(attempt, rng) for _ in range(100)]
            assert all(low * ceiling <= w <= ceiling for w in waits), (jitter, attempt)


def test_a_retry_after_is_a_floor_with_a_small_spread_on_top() -> None:
    policy = RetryPolicy(base_delay_s=0.01, spread_s=0.2)
    waits = [policy.delay(1, 5.0, random.Random(i)) for i in range(50)]
    assert all(5.0 <= w <= 5.2 for w in waits)
    assert len({round(w, 6) for w in waits}) > 1  # clients refused together spread out


def test_it_gives_up_on_attempts_on_age_and_on_a_retry_after_too_long_to_sit_through() -> None:
    policy = RetryPolicy(max_attempts=3, max_age_s=60, max_retry_after_s=30)
    assert not policy.exhausted(2, 10)
    assert policy.exhausted(3, 10)
    assert policy.exhausted(1, 60)
    assert policy.exhausted(1, 0, retry_after=31)
    unbounded = RetryPolicy(max_attempts=None, max_age_s=None, max_retry_after_s=None)
    assert not unbounded.exhausted(10**6, 1e9, 1e6)


def test_invalid_policies_are_refused() -> None:
    for bad in ({"max_attempts": 0}, {"base_delay_s": -1}, {"multiplier": 0.5}):
        with pytest.raises(ValueError):
            RetryPolicy(**bad)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 0.5 ", 0.5),
        ("-3", 0.0),
        ("Wed, 01 May 2024 12:00:30 GMT", 30.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(
    header: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(header, datetime(2024, 5, 1, 12, 0, tzinfo=UTC)) == seconds


async def test_the_runner_retries_retriable_errors_honouring_retry_after_then_succeeds() -> None:
    slept: list[float] = []
    seen: list[tuple[int, float]] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    calls = 0
    policy = RetryPolicy(max_attempts=5, base_delay_s=0.01, spread_s=0.0)
    async for attempt in policy.retrying(
        sleep=sleep, on_retry=lambda n, wait, _exc: seen.append((n, wait))
    ):
        with attempt:
            calls += 1
            if calls < 3:
                raise RetriableError("busy", retry_after=2.0)
    assert calls == 3
    assert slept == [2.0, 2.0]
    assert [n for n, _ in seen] == [1, 2]


async def test_the_runner_re_raises_the_last_error_on_giving_up_and_never_retries_fatal() -> None:
    async def sleep(_seconds: float) -> None:
        return None

    calls = 0
    with pytest.raises(RetriableError):
        async for attempt in RetryPolicy(max_attempts=3, base_delay_s=0).retrying(sleep=sleep):
            with attempt:
                calls += 1
                raise RetriableError("still busy")
    assert calls == 3

    calls = 0
    with pytest.raises(FatalError):
        async for attempt in RetryPolicy(max_attempts=3).retrying(sleep=sleep):
            with attempt:
                calls += 1
                raise FatalError("refused")
    assert calls == 1

    calls = 0
    with pytest.raises(RetriableError):  # Retry-After too long: handed back at once
        async for attempt in RetryPolicy(max_retry_after_s=10).retrying(sleep=sleep):
            with attempt:
                calls += 1
                raise RetriableError("limit", retry_after=300)
    assert calls == 1
