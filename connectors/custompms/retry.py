"""How the Custompms client configures the product's one retry policy (foundation/retry.py).

Retried: 429 and 5xx (Retry-After honoured as a floor), timeouts and dropped connections
(every Custompms write is retry-safe: creates carry an idempotency key, updates and deletes
are idempotent). Full jitter from 0.2 s, capped at 10 s, 5 attempts; a Retry-After over
60 s ends the retries at once and the caller (the capture loop, the sink) waits it out.
"""

from __future__ import annotations

from foundation.retry import RetryPolicy, parse_retry_after

#: The client's default; pass another `RetryPolicy` to `CustompmsClient(retry=...)`.
CUSTOMPMS_RETRY = RetryPolicy(
    max_attempts=5, base_delay_s=0.2, max_delay_s=10.0, jitter="full", max_retry_after_s=60.0
)

__all__ = ["CUSTOMPMS_RETRY", "RetryPolicy", "parse_retry_after"]
