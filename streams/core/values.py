"""One comparable form for every field value, whatever produced it.

Values reach the core from Avro (datetime.date, aware datetime), from write results (JSON
strings) and from converters. Equality must not depend on that, so everything is brought to
JSON scalars: dates as `YYYY-MM-DD`, datetimes as UTC ISO-8601 with milliseconds and `Z`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

Scalar = None | bool | int | float | str


def canonical(value: Any) -> Scalar:
    """The JSON-scalar form of a field value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"unsupported field value type {type(value).__name__}")


def to_millis(value: Any) -> int | None:
    """Epoch milliseconds of a datetime (or None)."""
    if value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp() * 1000)
    raise TypeError(f"not a timestamp: {value!r}")
