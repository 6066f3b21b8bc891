"""When and how long the Salesforce client waits before trying a request again."""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx

#: Failures that happen before the request reaches the server: always safe to retry.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
#: Methods Salesforce treats idempotently (PATCH updates/upserts set the same values again).
IDEMPOTENT = frozenset({"GET", "HEAD", "PATCH", "PUT", "DELETE"})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter.

    After failed attempt n (1-based) the client waits a uniform random time in
    [c/2, c] with c = min(max_delay, base_delay * 2**(n-1)). A Retry-After header is
    honoured as a floor; one longer than `max_retry_after` ends the retries at once and the
    caller gets a RetriableError carrying it.

    `retry_ambiguous_posts`: a POST (create) whose connection dropped after it was sent may
    or may not have been carried out; retrying it can create a duplicate, so by default it
    is not retried and the caller gets a RetriableError. Creates that must be retry-safe
    should use `upsert` on an external id instead.
    """

    max_attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 10.0
    max_retry_after: float = 60.0
    retry_ambiguous_posts: bool = False

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.base_delay, self.max_delay, self.max_retry_after) < 0:
            raise ValueError("delays must not be negative")

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait after failed attempt `attempt` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        backoff = rng.uniform(ceiling / 2, ceiling)
        if retry_after is not None:
            return max(retry_after, backoff)
        return backoff

    def may_retry_transport(self, method: str, exc: Exception) -> bool:
        """Whether a request that failed with transport error `exc` may be sent again."""
        if isinstance(exc, NOT_SENT):
            return True
        return method.upper() in IDEMPOTENT or self.retry_ambiguous_posts


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (Salesforce sends delta-seconds); None when absent or garbled."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(seconds, 0.0)
