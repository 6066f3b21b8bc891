"""The daily API request allocation, reported in `Sforce-Limit-Info: api-usage=N/LIMIT`."""

from __future__ import annotations

import threading
import time

from emulators.salesforce.errors import ApiError

_DAY_S = 24 * 3600


class ApiLimits:
    """A 24-hour request counter; past the limit every API call is refused (403)."""

    def __init__(self, limit: int) -> None:
        self._lock = threading.Lock()
        self.limit = limit
        self.used = 0
        self._window_start = time.monotonic()

    def _roll(self) -> None:
        if time.monotonic() - self._window_start >= _DAY_S:
            self._window_start = time.monotonic()
            self.used = 0

    def consume(self) -> None:
        """Count one API request, or refuse it with REQUEST_LIMIT_EXCEEDED."""
        with self._lock:
            self._roll()
            if self.used >= self.limit:
                raise ApiError.one(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            self.used += 1

    def set(self, *, used: int | None = None, limit: int | None = None) -> None:
        with self._lock:
            if used is not None:
                self.used = used
            if limit is not None:
                self.limit = limit

    def header(self) -> str:
        with self._lock:
            return f"api-usage={self.used}/{self.limit}"

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {"Max": self.limit, "Remaining": max(self.limit - self.used, 0)}
