"""The parsed form of a SOQL query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldPath:
    """A field reference as written: `Subject`, `Task.Subject`, `Owner.Name`."""

    parts: tuple[str, ...]
    pos: int

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class DateRange:
    """A relative date literal (TODAY, LAST_N_DAYS:7): [start, end) in UTC dates."""

    name: str
    start: date
    end: date


@dataclass(frozen=True, slots=True)
class Literal:
    """kind: string number date datetime boolean null range."""

    kind: str
    value: str | float | date | datetime | bool | DateRange | None
    raw: str
    pos: int


@dataclass(frozen=True, slots=True)
class Comparison:
    field: FieldPath
    op: str  # = != < <= > >=
    value: Literal


@dataclass(frozen=True, slots=True)
class InList:
    field: FieldPath
    values: tuple[Literal, ...]
    negate: bool


@dataclass(frozen=True, slots=True)
class Like:
    field: FieldPath
    pattern: Literal


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # AND | OR
    items: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Any


@dataclass(frozen=True, slots=True)
class OrderItem:
    field: FieldPath
    descending: bool
    nulls_first: bool


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    count: bool
    fields: tuple[FieldPath, ...]
    sobject: str
    sobject_pos: int
    where: Any | None
    order: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None


Expr = Comparison | InList | Like | BoolOp | Not
