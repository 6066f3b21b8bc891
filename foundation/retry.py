"""One retry policy for the whole product, on tenacity.

Both HTTP clients, the capture loops and the sink workers configure this one policy instead
of keeping a backoff loop each. A `RetryPolicy` says how long to wait after the n-th failure
(exponential backoff with jitter, a server's Retry-After honoured as a floor) and when to give
up (attempts, age since the first failure, or a Retry-After longer than the caller will sit
through). What counts as worth retrying is the caller's hook; by default the foundation error
hierarchy decides (`RetriableError` yes, everything else no).

Two ways to use it:
- `policy.retrying(...)`: a `tenacity.AsyncRetrying` for "call this until it works" (the HTTP
  clients): `async for attempt in policy.retrying(...): with attempt: ...`.
- `policy.delay(n, retry_after)` and `policy.exhausted(n, age, retry_after)`: the same
  arithmetic for loops that must keep doing other work between tries (a capture cycle, a sink
  that keeps polling its consumer while one command waits for its next attempt).

Why tenacity: it is the most used retry library for Python, typed, with asyncio support and
every hook this needs (a wait computed from the failure, composed stop conditions, an
injectable sleep, a before-sleep hook for the log line). stamina wraps tenacity with fixed
opinions (its own jitter, no stop on a too-long Retry-After), which is less than we need.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import tenacity

from foundation.errors import RetriableError

Jitter = Literal["full", "equal", "none"]
_RANDOM = random.Random()
#: Called before each wait: (attempt number that failed, seconds about to wait, the error).
OnRetry = Callable[[int, float, BaseException], None]


def is_retriable(exc: BaseException) -> bool:
    """The default classification: the foundation hierarchy's `RetriableError`."""
    return isinstance(exc, RetriableError)


def retry_after_of(exc: BaseException) -> float | None:
    """The server's Retry-After carried by an error (None when it has none)."""
    value = getattr(exc, "retry_after", None)
    return float(value) if isinstance(value, int | float) else None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When to try again and when to stop.

    After failed attempt n (1-based) the wait is c = min(max_delay_s, base_delay_s *
    multiplier**(n-1)), jittered: `full` draws from [0, c], `equal` from [c/2, c], `none` is c.
    A Retry-After is a floor: the wait is at least Retry-After plus up to `spread_s` (so
    clients refused together do not return together).

    Give up after `max_attempts` attempts or `max_age_s` seconds since the first try
    (None: no bound), or at once when a Retry-After exceeds `max_retry_after_s`: the caller
    then gets the error, which carries that Retry-After, and can schedule the retry itself.
    """

    max_attempts: int | None = 5
    max_age_s: float | None = None
    base_delay_s: float = 0.25
    max_delay_s: float = 10.0
    multiplier: float = 2.0
    jitter: Jitter = "equal"
    spread_s: float = 0.2
    max_retry_after_s: float | None = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1 (or None for no bound)")
        delays = (self.base_delay_s, self.max_delay_s, self.spread_s)
        if min(delays) < 0 or (self.max_age_s is not None and self.max_age_s < 0):
            raise ValueError("delays must not be negative")
        if self.multiplier < 1:
            raise ValueError("multiplier must be at least 1")

    def with_(self, **changes: Any) -> RetryPolicy:
        """A copy with some fields changed (each user configures its own bounds)."""
        return replace(self, **changes)

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """The jittered backoff after failed attempt `attempt` (1-based), no Retry-After."""
        draw = rng or _RANDOM
        exponent = min(max(attempt, 1) - 1, 64)
        ceiling = min(self.max_delay_s, self.base_delay_s * self.multiplier**exponent)
        if self.jitter == "full":
            return draw.uniform(0, ceiling)
        if self.jitter == "equal":
            return draw.uniform(ceiling / 2, ceiling)
        return ceiling

    def delay(
        self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after failed attempt `attempt`, honouring `retry_after`."""
        backoff = self.backoff(attempt, rng)
        if retry_after is None:
            return backoff
        spread = (rng or _RANDOM).uniform(0, self.spread_s) if self.spread_s else 0.0
        return max(retry_after + spread, backoff)

    def waits_too_long(self, retry_after: float | None) -> bool:
        """Whether a Retry-After is longer than this policy sits through."""
        limit = self.max_retry_after_s
        return retry_after is not None and limit is not None and retry_after > limit

    def exhausted(
        self, attempts: int, age_s: float = 0.0, retry_after: float | None = None
    ) -> bool:
        """Whether to stop after `attempts` failed attempts, `age_s` after the first failure."""
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return True
        if self.max_age_s is not None and age_s >= self.max_age_s:
            return True
        return self.waits_too_long(retry_after)

    def retrying(
        self,
        *,
        retry_on: Callable[[BaseException], bool] = is_retriable,
        retry_after: Callable[[BaseException], float | None] = retry_after_of,
        on_retry: OnRetry | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> tenacity.AsyncRetrying:
        """A fresh tenacity runner for one logical call (runners are not shared: tenacity
        keeps per-run state on them). The last error is re-raised when it gives up."""

        def failure(state: tenacity.RetryCallState) -> BaseException | None:
            return state.outcome.exception() if state.outcome is not None else None

        def stop(state: tenacity.RetryCallState) -> bool:
            exc = failure(state)
            hint = retry_after(exc) if exc is not None else None
            return self.exhausted(state.attempt_number, state.seconds_since_start or 0.0, hint)

        def wait(state: tenacity.RetryCallState) -> float:
            exc = failure(state)
            hint = retry_after(exc) if exc is not None else None
            return self.delay(state.attempt_number, hint, rng)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = failure(state)
            if on_retry is not None and exc is not None:
                seconds = state.next_action.sleep if state.next_action is not None else 0.0
                on_retry(state.attempt_number, seconds, exc)

        return tenacity.AsyncRetrying(
            stop=stop,
            wait=wait,
            retry=tenacity.retry_if_exception(retry_on),
            before_sleep=before_sleep,
            sleep=sleep,
            reraise=True,
        )


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds (Salesforce, Custompms) or an HTTP date (RFC 9110);
    None when absent or garbled, never negative."""
    if value is None:
        return None
    text = value.strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
