"""How the Salesforce client configures the product's one retry policy (foundation/retry.py).

Retried: 429 and 5xx (Retry-After honoured as a floor), timeouts and dropped connections,
but a request that may have reached Salesforce is sent again only when doing it twice is
harmless (`may_resend`). Equal jitter from 0.25 s, capped at 10 s, 5 attempts; a Retry-After
over 60 s ends the retries at once and the caller gets a RetriableError carrying it.
"""

from __future__ import annotations

import httpx

from foundation.retry import RetryPolicy, parse_retry_after

#: Failures that happen before the request reaches the server: always safe to retry.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
#: Methods Salesforce treats idempotently (PATCH updates/upserts set the same values again).
IDEMPOTENT = frozenset({"GET", "HEAD", "PATCH", "PUT", "DELETE"})

#: The client's default; pass another `RetryPolicy` to `SalesforceClient(retry=...)`.
SALESFORCE_RETRY = RetryPolicy(
    max_attempts=5, base_delay_s=0.25, max_delay_s=10.0, jitter="equal", max_retry_after_s=60.0
)


def may_resend(method: str, exc: Exception, *, ambiguous_posts: bool = False) -> bool:
    """Whether a request that failed with transport error `exc` may be sent again.

    A POST (create) whose connection dropped after it was sent may or may not have been
    carried out; sending it again can create a duplicate, so it is not resent unless the
    caller opted in (`ambiguous_posts`). Creates that must be retry-safe use `upsert` on an
    external id instead.
    """
    if isinstance(exc, NOT_SENT):
        return True
    return method.upper() in IDEMPOTENT or ambiguous_posts


__all__ = [
    "IDEMPOTENT",
    "NOT_SENT",
    "SALESFORCE_RETRY",
    "RetryPolicy",
    "may_resend",
    "parse_retry_after",
]
