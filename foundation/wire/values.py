"""Value types shared by the wire records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

#: A field value on the wire: a JSON scalar (dates and datetimes as ISO strings).
Scalar = None | bool | int | float | str
System = Literal["salesforce", "custompms"]
Action = Literal["create", "update", "delete", "upsert"]
Origin = Literal["sync", "person", "unknown"]


def millis(value: Any) -> int | None:
    """Epoch milliseconds of a timestamp as Avro decoders return it (datetime) or as the
    records hold it (int); None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"not a timestamp: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp() * 1000)
    raise TypeError(f"not a timestamp: {value!r}")


def millis_required(value: Any) -> int:
    found = millis(value)
    if found is None:
        raise TypeError("a required timestamp is missing")
    return found
