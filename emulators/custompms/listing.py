"""The SQL behind `GET /{resource}`: filters, the two orderings, and keyset cursors.

Pages are keyset pages (WHERE key > last key), not offsets, so a record written while a
client pages can neither be skipped nor shift the pages that follow.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from emulators.custompms.db import RECORD_COLUMNS, decode_cursor, encode_cursor
from emulators.custompms.resources import ResourceSpec


@dataclass(frozen=True, slots=True)
class ListQuery:
    """One page request; `updated_since` (canonical form) switches to (updated_at, id) order."""

    spec: ResourceSpec
    limit: int
    cursor: str | None = None
    updated_since: str | None = None
    include_deleted: bool = False
    filters: Mapping[str, str] | None = None

    @property
    def mode(self) -> str:
        return "updated" if self.updated_since is not None else "id"


def name_key(name: str) -> str:
    """What `GET /customers?name=` compares: trimmed and case-folded."""
    return name.strip().casefold()


def build_sql(query: ListQuery) -> tuple[str, list[Any]]:
    """SELECT for one page plus one row (to know whether another page follows)."""
    spec, mode = query.spec, query.mode
    where: list[str] = ["resource = ?"]
    params: list[Any] = [spec.name]
    if not query.include_deleted:
        where.append("deleted_at IS NULL")
    for field, value in (query.filters or {}).items():
        if field == "name":
            where.append("name_key = ?")
            params.append(name_key(value))
        elif spec.parent is not None and field == spec.parent.field:
            where.append("parent = ?")
            params.append(value)
        else:
            where.append("json_extract(data, ?) = ?")
            params.extend([f"$.{field}", value])
    if query.updated_since is not None:
        where.append("updated_at >= ?")
        params.append(query.updated_since)
    if query.cursor is not None:
        position = decode_cursor(query.cursor, mode)
        if mode == "updated":
            where.append("(updated_at > ? OR (updated_at = ? AND seq_no > ?))")
            params.extend([position["u"], position["u"], position["n"]])
        else:
            where.append("seq_no > ?")
            params.append(position["n"])
    order = "updated_at, seq_no" if mode == "updated" else "seq_no"
    # Only the fixed fragments above are interpolated; every value is a bound parameter.
    sql = (
        f"SELECT {RECORD_COLUMNS}, seq_no FROM records WHERE {' AND '.join(where)} "  # noqa: S608
        f"ORDER BY {order} LIMIT ?"
    )
    return sql, [*params, query.limit + 1]


def page_rows(
    query: ListQuery, rows: Sequence[sqlite3.Row]
) -> tuple[Sequence[sqlite3.Row], str | None]:
    """The rows of the page and the cursor of the next one (None on the last page)."""
    if len(rows) <= query.limit:
        return rows, None
    rows = rows[: query.limit]
    last = rows[-1]
    position: dict[str, Any] = {"m": query.mode, "n": last["seq_no"]}
    if query.mode == "updated":
        position["u"] = last["updated_at"]
    return rows, encode_cursor(position)
