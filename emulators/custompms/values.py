"""Value formats of the Custompms API: timestamps (RFC 3339, UTC, milliseconds, "Z") and dates.

The emulator keeps its own copy of these rules rather than importing the client's helpers:
it stands for the remote system, whose contract the client must meet independently.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta, timezone

_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_DATETIME = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


def format_timestamp(moment: datetime) -> str:
    """`2024-05-01T12:00:00.123Z` for an aware datetime (converted to UTC)."""
    utc = moment.astimezone(UTC)
    # Not strftime: its %Y does not zero-pad years before 1000 on every platform.
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


def normalize_date(value: str) -> str:
    """Check a `YYYY-MM-DD` calendar date; raises ValueError naming the expected format."""
    match = _DATE.match(value)
    if match is None:
        raise ValueError("expected a date as YYYY-MM-DD")
    try:
        return date(*(int(part) for part in match.groups())).isoformat()
    except ValueError as exc:
        raise ValueError(f"not a calendar date: {exc}") from exc


def normalize_datetime(value: str) -> str:
    """An RFC 3339 date-time with an offset, re-written in the API's own UTC form.

    A leap second (`:60`) is clamped to the last millisecond of its minute, which is as
    close as Python's datetime can get.
    """
    match = _DATETIME.match(value)
    if match is None:
        raise ValueError("expected an RFC 3339 date-time with offset, e.g. 2024-05-01T12:00:00Z")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, offset = match.group(7), match.group(8)
    leap = second == 60
    micros = int((fraction or ".0")[1:7].ljust(6, "0"))
    try:
        tz: timezone = UTC
        if offset not in ("Z", "z"):
            sign = 1 if offset[0] == "+" else -1
            delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
            tz = timezone(sign * delta)
        moment = datetime(
            year, month, day, hour, minute, 59 if leap else second, 999_000 if leap else micros, tz
        )
        return format_timestamp(moment)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a valid date-time: {exc}") from exc


class Clock:
    """UTC now at millisecond precision that never goes backwards within one store.

    `updated_since` polling relies on timestamps that only grow with commit order.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = datetime(1970, 1, 1, tzinfo=UTC)

    def observe(self, timestamp: str) -> None:
        """Never hand out a time before `timestamp` (the newest one already stored)."""
        seen = datetime.fromisoformat(timestamp)
        with self._lock:
            self._last = max(self._last, seen)

    def now(self) -> str:
        current = datetime.now(UTC)
        current = current.replace(microsecond=current.microsecond // 1000 * 1000)
        with self._lock:
            self._last = max(self._last, current)
            return format_timestamp(self._last)
