"""Salesforce's date and datetime wire formats, as the emulator reads and writes them.

Datetimes go out as `2026-11-25T23:08:24.000+0000` (UTC, milliseconds, offset without a
colon) and dates as `2026-11-25`. On input Salesforce accepts ISO 8601 with `Z` or an
offset (with or without colon), with or without fractional seconds.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta, timezone

_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def now() -> datetime:
    """The current UTC time truncated to milliseconds (Salesforce's resolution)."""
    ms = time.time_ns() // 1_000_000
    return from_ms(ms)


def from_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def to_ms(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(milliseconds=1)


def format_datetime(value: datetime) -> str:
    """`2026-11-25T23:08:24.000+0000`."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def format_date(value: date) -> str:
    return value.isoformat()


def parse_datetime(text: str, *, require_zone: bool = False) -> datetime:
    """Parse an ISO 8601 datetime; naive values are taken as UTC unless `require_zone`."""
    match = _DATETIME.match(text.strip())
    if not match:
        raise ValueError(f"not an ISO 8601 datetime: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if zone is None and require_zone:
        raise ValueError(f"datetime without a time zone: {text!r}")
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    tz = UTC
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    value = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tzinfo=tz
    ).astimezone(UTC)
    # Salesforce keeps milliseconds only.
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def parse_date(text: str) -> date:
    match = _DATE.match(text.strip())
    if not match:
        raise ValueError(f"not an ISO 8601 date: {text!r}")
    return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))


def floor_minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)
