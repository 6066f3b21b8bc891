"""Converters: small frozen objects that carry one value from one system's domain to the other's.

Values are the Python objects fastavro decodes: `str`, `bool`, `int`, `None`, `datetime.date`
for dates and timezone-aware `datetime.datetime` (UTC) for date-times. Converters also accept
ISO-8601 strings for dates and date-times, so a record that arrives as JSON maps the same way.
They never guess: a value they cannot carry raises `ConversionError` with a message that says
what is wrong; the caller adds the flow, record and field.

`None` means "clear the field". A converter built with `nullable=False` refuses it, because
the target requires a value (a Salesforce boolean, a Custompms name).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from streams.mapping.errors import ConversionError, UnknownValue

#: Values longer than this are cut in error messages: they are data, not diagnostics.
_PREVIEW_CHARS = 40


def preview(value: Any) -> str:
    """A short repr of `value` for an error message."""
    text = repr(value)
    return text if len(text) <= _PREVIEW_CHARS else text[: _PREVIEW_CHARS - 3] + "..."


def _type_name(value: Any) -> str:
    return type(value).__name__


@dataclass(frozen=True, slots=True)
class Converter:
    """Base of every converter: `__call__` converts one value, `describe` explains it for docs."""

    def __call__(self, value: Any) -> Any:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


def _refuse_none(nullable: bool) -> None:
    if not nullable:
        raise ConversionError("a value is required here; empty (None) is not allowed")


@dataclass(frozen=True, slots=True)
class Text(Converter):
    """Text up to `max_length` characters (the target's limit); never trimmed or cut.

    `nullable=False` means the target requires text: None and blank strings are refused.
    """

    max_length: int
    nullable: bool = True

    def __call__(self, value: Any) -> Any:
        if value is None:
            _refuse_none(self.nullable)
            return None
        if not isinstance(value, str):
            raise ConversionError(f"expected text, got {_type_name(value)} {preview(value)}")
        if len(value) > self.max_length:
            raise ConversionError(
                f"text of {len(value)} characters exceeds the limit of {self.max_length}"
            )
        if not self.nullable and not value.strip():
            # Required text on both sides (a name, a title) must have a visible character.
            raise ConversionError("a value is required here; blank text is not allowed")
        return value

    def describe(self) -> str:
        required = ", required (not blank)" if not self.nullable else ""
        return f"text, at most {self.max_length} characters{required}"


@dataclass(frozen=True, slots=True)
class Boolean(Converter):
    """`True` or `False`; Salesforce booleans are never empty, so `nullable` defaults to False."""

    nullable: bool = False

    def __call__(self, value: Any) -> Any:
        if value is None:
            _refuse_none(self.nullable)
            return None
        if not isinstance(value, bool):
            raise ConversionError(
                f"expected true or false, got {_type_name(value)} {preview(value)}"
            )
        return value

    def describe(self) -> str:
        return "true/false" + (", required" if not self.nullable else "")


@dataclass(frozen=True, slots=True)
class EnumMap(Converter):
    """A value table, e.g. Salesforce picklist value -> Custompms enum value.

    `pairs` keeps the order of the table for documents; several sources may share a target
    (that makes the row lossy, see `FieldRow.lossy`). A value not in the table becomes
    `default` when the row names one; otherwise it is an `UnknownValue` error, never passed
    through: the target would refuse it or, worse, store it.
    """

    pairs: tuple[tuple[str, str], ...]
    nullable: bool = False
    default: str | None = None
    _table: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_table", MappingProxyType(dict(self.pairs)))

    @classmethod
    def of(
        cls, table: Mapping[str, str], *, nullable: bool = False, default: str | None = None
    ) -> EnumMap:
        """Build from a mapping literal, keeping its order."""
        return cls(tuple(table.items()), nullable=nullable, default=default)

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(source for source, _ in self.pairs)

    @property
    def targets(self) -> tuple[str, ...]:
        """Every value this table can produce (the default included)."""
        produced = [target for _, target in self.pairs]
        if self.default is not None:
            produced.append(self.default)
        return tuple(dict.fromkeys(produced))

    def __call__(self, value: Any) -> Any:
        if value is None:
            _refuse_none(self.nullable)
            return None
        if isinstance(value, str) and value in self._table:
            return self._table[value]
        if not isinstance(value, str):
            raise ConversionError(f"expected a value of the list, got {_type_name(value)}")
        if self.default is not None:
            return self.default
        known = ", ".join(repr(source) for source in self.sources)
        raise UnknownValue(f"unknown value {preview(value)}; expected one of: {known}", value)

    def describe(self) -> str:
        text = "; ".join(f"{source} -> {target}" for source, target in self.pairs)
        return f"{text}; any other value -> {self.default}" if self.default is not None else text


@dataclass(frozen=True, slots=True)
class DateValue(Converter):
    """A calendar date (`datetime.date`); ISO strings `YYYY-MM-DD` are accepted too."""

    nullable: bool = True

    def __call__(self, value: Any) -> Any:
        if value is None:
            _refuse_none(self.nullable)
            return None
        if isinstance(value, dt.datetime):
            # A date-time here means the two sides disagree on the type; truncating would
            # silently move the date across a time-zone boundary.
            raise ConversionError(f"expected a date, got a date-time {preview(value)}")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError as exc:
                raise ConversionError(
                    f"{preview(value)} is not a valid date (expected YYYY-MM-DD)"
                ) from exc
        raise ConversionError(f"expected a date, got {_type_name(value)} {preview(value)}")

    def describe(self) -> str:
        return "date (YYYY-MM-DD)"


@dataclass(frozen=True, slots=True)
class DateTimeValue(Converter):
    """A point in time, returned in UTC at millisecond precision.

    Salesforce and the Avro `timestamp-millis` type keep milliseconds, so finer digits could
    not survive a round trip anyway; cutting them here keeps both sides equal. A date-time
    without a time zone is refused: guessing one would shift the value by hours.
    """

    nullable: bool = True

    def __call__(self, value: Any) -> Any:
        if value is None:
            _refuse_none(self.nullable)
            return None
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value)
            except ValueError as exc:
                raise ConversionError(
                    f"{preview(value)} is not a valid ISO-8601 date-time"
                ) from exc
        if not isinstance(value, dt.datetime):
            raise ConversionError(f"expected a date-time, got {_type_name(value)} {preview(value)}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ConversionError(f"date-time {preview(value)} has no time zone")
        try:
            utc = value.astimezone(dt.UTC)
        except OverflowError as exc:
            raise ConversionError(f"date-time {preview(value)} is out of range in UTC") from exc
        return utc.replace(microsecond=utc.microsecond // 1000 * 1000)

    def describe(self) -> str:
        return "date-time, UTC, millisecond precision"


@dataclass(frozen=True, slots=True)
class Number(Converter):
    """A number (int or float; never a bool), optionally whole and within bounds."""

    nullable: bool = True
    integer: bool = False
    minimum: int | float | None = None
    maximum: int | float | None = None

    def __call__(self, value: Any) -> Any:
        if value is None:
            _refuse_none(self.nullable)
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConversionError(f"expected a number, got {_type_name(value)} {preview(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConversionError(f"{preview(value)} is not a finite number")
        if self.integer:
            if isinstance(value, float) and not value.is_integer():
                raise ConversionError(f"{preview(value)} is not a whole number")
            value = int(value)
        if self.minimum is not None and value < self.minimum:
            raise ConversionError(f"{preview(value)} is below the minimum of {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise ConversionError(f"{preview(value)} is above the maximum of {self.maximum}")
        return value

    def describe(self) -> str:
        kind = "whole number" if self.integer else "number"
        bounds = [
            f"at least {self.minimum}" if self.minimum is not None else "",
            f"at most {self.maximum}" if self.maximum is not None else "",
        ]
        extra = ", ".join(b for b in bounds if b)
        return f"{kind}{', ' + extra if extra else ''}" + (
            ", required" if not self.nullable else ""
        )


@dataclass(frozen=True, slots=True)
class Constant(Converter):
    """Always `value`, whatever comes in: marks which kind of record a flow writes."""

    value: str | bool | int

    def __call__(self, value: Any = None) -> Any:
        return self.value

    def describe(self) -> str:
        return f"always {json.dumps(self.value)}"


@dataclass(frozen=True, slots=True)
class LinkedId(Converter):
    """The id of a Custompms record found through another flow's link (never read from a field).

    The engine resolves it (e.g. the Project linked to the same Salesforce Task) and passes the
    id through this converter, which only checks its shape.
    """

    via_flow: str
    nullable: bool = False

    def __call__(self, value: Any) -> Any:
        if value is None:
            if not self.nullable:
                raise ConversionError(f"the linked record of flow {self.via_flow} is not known yet")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ConversionError(f"expected a record id, got {_type_name(value)} {preview(value)}")
        return value

    def describe(self) -> str:
        return f"id of the record linked through flow {self.via_flow}"
