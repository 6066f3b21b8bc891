"""The daily API request allocation, reported in `Sforce-Limit-Info: api-usage=N/LIMIT`.

Salesforce counts the org's API calls over a rolling 24-hour window ("calls are blocked
until usage for the preceding 24 hours drops below the limit"). The emulator counts calls
in 1,440 slices of the window (one minute of 24 hours) and forgets a slice once it lies
wholly outside the window, so usage falls back gradually rather than all at once. The
window length is configurable so tests can watch it roll; an admin route can move the
clock forward.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from emulators.salesforce.errors import ApiError

DAY_S = 24 * 3600.0
SLICES = 1440


class ApiLimits:
    """A rolling-window request counter; past the limit every API call is refused (403)."""

    def __init__(
        self,
        limit: int,
        window_s: float = DAY_S,
        *,
        clock: Callable[[], float] = time.monotonic,
        refusal: Callable[[int], ApiError] | None = None,
    ) -> None:
        if window_s <= 0:
            raise ValueError("the API limit window must be positive")
        self._lock = threading.Lock()
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._offset = 0.0
        self._slice = window_s / SLICES
        self._slices: deque[list[float]] = deque()  # [slice start, calls in it]
        self._used = 0
        self._refusal = refusal or _total_requests_exceeded

    def _now(self) -> float:
        return self._clock() + self._offset

    def _expire(self, now: float) -> None:
        horizon = now - self.window_s
        while self._slices and self._slices[0][0] + self._slice <= horizon:
            self._used -= int(self._slices.popleft()[1])

    def _add(self, now: float, count: int) -> None:
        start = now - (now % self._slice)
        if self._slices and self._slices[-1][0] == start:
            self._slices[-1][1] += count
        else:
            self._slices.append([start, float(count)])
        self._used += count

    @property
    def used(self) -> int:
        with self._lock:
            self._expire(self._now())
            return self._used

    def consume(self) -> None:
        """Count one API request, or refuse it (REQUEST_LIMIT_EXCEEDED by default)."""
        with self._lock:
            now = self._now()
            self._expire(now)
            if self._used >= self.limit:
                raise self._refusal(self.limit)
            self._add(now, 1)

    def set(self, *, used: int | None = None, limit: int | None = None) -> None:
        """Admin: set the usage (as calls made just now) and/or the limit."""
        with self._lock:
            if used is not None:
                self._slices.clear()
                self._used = 0
                if used:
                    self._add(self._now(), used)
            if limit is not None:
                self.limit = limit

    def advance(self, seconds: float) -> None:
        """Admin: move this counter's clock forward (calls older than the window expire)."""
        with self._lock:
            self._offset += max(seconds, 0.0)

    def reset(self) -> None:
        """Admin: forget every counted call."""
        self.set(used=0)

    def header(self) -> str:
        return f"api-usage={self.used}/{self.limit}"

    def snapshot(self) -> dict[str, int]:
        used = self.used
        return {"Max": self.limit, "Remaining": max(self.limit - used, 0)}


def _total_requests_exceeded(limit: int) -> ApiError:
    return ApiError.one(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")


def bulk_query_jobs_exceeded(limit: int) -> ApiError:
    """DailyBulkV2QueryJobs used up (message as Salesforce words it)."""
    return ApiError.one(
        400, "LIMIT_EXCEEDED", f"Max bulk v2 query jobs ({limit}) per 24 hrs has been reached"
    )
