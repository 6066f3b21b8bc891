"""When the CDC loops poll next: API-usage pacing, failure backoff, stoppable sleep."""

from __future__ import annotations

import asyncio


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


def retry_delay(base_s: float, failures: int, retry_after: float | None, max_s: float) -> float:
    """The pause after `failures` consecutive failed cycles: exponential from `base_s` (at
    least 1 s), capped at `max_s`; a server's Retry-After is honoured up to `max_s`."""
    delay = min(max_s, max(base_s, 0.5) * 2 ** min(max(failures, 1), 16))
    if retry_after:
        delay = max(delay, min(retry_after, max_s))
    return delay


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds` unless `stop` is set first."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0.0))
    except TimeoutError:
        return
