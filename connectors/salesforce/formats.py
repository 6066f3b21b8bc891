"""Salesforce value formats, pure: datetimes, dates and SOQL literals.

- Salesforce writes datetimes as `2026-11-25T23:08:24.000+0000` (UTC, milliseconds, offset
  without a colon) and reads ISO 8601 with `Z` or an offset; dates are `2026-11-25`.
- SOQL literals: strings single-quoted with backslash escapes; datetimes and dates bare
  (`2026-11-25T23:08:24.000Z`, `2026-11-25`); `true`/`false`/`null`; lists in parentheses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$"
)
_SOQL_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def parse_datetime(text: str) -> datetime:
    """An aware UTC datetime from Salesforce's format or any ISO 8601 (naive means UTC)."""
    match = _DATETIME.match(text.strip())
    if not match:
        raise ValueError(f"not a Salesforce datetime: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    tz: timezone = UTC
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    value = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tzinfo=tz
    )
    return value.astimezone(UTC)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_datetime(value: datetime) -> str:
    """`2026-11-25T23:08:24.000+0000` (naive datetimes are taken as UTC)."""
    value = _utc(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def parse_date(text: str) -> date:
    """A date from `2026-11-25` (a datetime string yields its UTC date)."""
    text = text.strip()
    if "T" in text:
        return parse_datetime(text).date()
    return date.fromisoformat(text)


def format_date(value: date) -> str:
    if isinstance(value, datetime):
        return _utc(value).date().isoformat()
    return value.isoformat()


def soql_quote(value: str) -> str:
    """A SOQL string literal: `'O\\'Brien'`."""
    return "'" + "".join(_SOQL_ESCAPES.get(c, c) for c in value) + "'"


def soql_like_escape(value: str) -> str:
    """Escape LIKE wildcards so `value` matches literally inside a LIKE pattern."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def soql_datetime(value: datetime) -> str:
    """A SOQL datetime literal with milliseconds: `2026-11-25T23:08:24.000Z`."""
    value = _utc(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def soql_literal(value: Any) -> str:
    """Any Python value as a SOQL literal (None, bool, number, str, date, datetime, list)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return soql_quote(value)
    if isinstance(value, datetime):
        return soql_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Iterable):
        items = [soql_literal(v) for v in value]
        if not items:
            raise ValueError("an IN list needs at least one value")
        return "(" + ", ".join(items) + ")"
    raise TypeError(f"no SOQL literal for {type(value).__name__}")


#: Bulk API 2.0 CSV delimiters by the job's `columnDelimiter`, and line endings.
CSV_DELIMITERS = {"BACKQUOTE": "`", "CARET": "^", "COMMA": ",", "PIPE": "|", "SEMICOLON": ";"}
CSV_DELIMITERS["TAB"] = "\t"
CSV_LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
_NUMBER_TYPES = frozenset({"double", "currency", "percent"})


def csv_value(field_type: str | None, text: str) -> Any:
    """A Bulk API CSV value as a Python value for a field of describe type `field_type`.

    An empty value is None (Salesforce stores empty text as null); `true`/`false` are
    booleans; numbers, dates and datetimes are parsed; unknown types stay text.
    """
    if text == "":
        return None
    if field_type == "boolean":
        return text.lower() == "true"
    if field_type == "int":
        return int(text)
    if field_type in _NUMBER_TYPES:
        return float(text)
    if field_type == "date":
        return parse_date(text)
    if field_type == "datetime":
        return parse_datetime(text)
    return text
