"""When the CDC loops poll next: API-usage pacing, failure backoff, stoppable sleep."""

from __future__ import annotations

import asyncio
import logging

from connectors.custompms.errors import CustompmsAuthError
from foundation.retry import RetryPolicy


def paced_interval(base_s: float, usage_fraction: float | None, threshold: float) -> float:
    """The poll interval for the current API usage: `base_s` below `threshold`, then doubled
    each time usage crosses half of the remaining way to 100 % (80 % -> x2, 90 % -> x4,
    95 % -> x8 with the default threshold), capped at x16."""
    if usage_fraction is None or usage_fraction <= threshold:
        return base_s
    factor = 2.0
    step = threshold
    while factor < 16:
        step = step + (1 - step) / 2
        if usage_fraction <= step:
            break
        factor *= 2
    return base_s * factor


def adaptive_interval(previous: float | None, changed: bool, fast_s: float, idle_s: float) -> float:
    """The pause before polling an sObject again: `fast_s` right after a poll found changes
    (or at start), doubled after each poll that found none, up to `idle_s`."""
    ceiling = max(idle_s, fast_s)
    if changed or previous is None:
        return fast_s
    return min(max(previous * 2, fast_s), ceiling)


def failure_policy(poll_interval_s: float, max_backoff_s: float) -> RetryPolicy:
    """The capture's configuration of the product's one retry policy (foundation/retry.py).

    A capture loop never gives up (there is nothing to dead-letter: the records stay in the
    source system): after n consecutive failed cycles it waits about 2**n times the poll
    interval (at least 1 s, equal jitter), capped at `max_backoff_s`; a server's Retry-After
    (a rate limit, Salesforce's REQUEST_LIMIT_EXCEEDED) is honoured in full, so a refused
    poll is not sent again before the server said it may be.
    """
    return RetryPolicy(
        max_attempts=None,
        base_delay_s=max(poll_interval_s, 0.5) * 2,
        max_delay_s=max_backoff_s,
        jitter="equal",
        max_retry_after_s=None,
    )


def log_failure(log: logging.Logger, what: str, exc: Exception, delay: float) -> None:
    """A failed cycle: a warning, or an error when the system refused our credentials (the
    operator must act; the loop keeps trying so a fixed token is picked up without a restart)."""
    if isinstance(exc, CustompmsAuthError):
        log.error("%s: credentials refused (%s); retrying in %.1fs", what, exc, delay)
    else:
        log.warning("%s failed (%s); retrying in %.1fs", what, exc, delay)


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds` unless `stop` is set first."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0.0))
    except TimeoutError:
        return
