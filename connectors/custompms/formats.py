"""Value formats of the Custompms API, as pure functions anyone may reuse (mappings, tests).

- Timestamps: RFC 3339 in UTC with exactly three fraction digits and "Z",
  e.g. `2024-05-01T12:00:00.123Z` (created_at, updated_at, deleted_at, completed_at, at).
- Dates: `YYYY-MM-DD` (start_date, due_date).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

_TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def format_timestamp(moment: datetime) -> str:
    """An aware datetime as the API writes it; naive datetimes are refused (ambiguous)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("refusing a naive datetime: attach a timezone (e.g. UTC) first")
    utc = moment.astimezone(UTC)
    # Not strftime: its %Y does not zero-pad years before 1000 on every platform.
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


def parse_timestamp(value: str) -> datetime:
    """An RFC 3339 timestamp (any offset, any fraction) as an aware UTC datetime."""
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
    except (ValueError, IndexError) as exc:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}") from exc
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without offset: {value!r}")
    return moment.astimezone(UTC)


def is_timestamp(value: str) -> bool:
    """True when `value` is exactly in the API's canonical timestamp form."""
    return bool(_TIMESTAMP.match(value))


def normalize_timestamp(value: str | datetime) -> str:
    """Any RFC 3339 string or aware datetime in the API's canonical form (ms precision)."""
    return format_timestamp(value if isinstance(value, datetime) else parse_timestamp(value))


def format_date(value: date) -> str:
    """A date as `YYYY-MM-DD`; a datetime gives its own calendar date (no zone conversion)."""
    if isinstance(value, datetime):
        value = value.date()
    return value.isoformat()


def parse_date(value: str) -> date:
    """A `YYYY-MM-DD` string as a date."""
    if not _DATE.match(value):
        raise ValueError(f"not a YYYY-MM-DD date: {value!r}")
    return date.fromisoformat(value)
