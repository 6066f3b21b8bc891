"""The SQLite schema of the emulator and the low-level helpers the store builds on.

One table holds the records of all three resources (fields as JSON, plus the few columns
that are indexed or filtered on). Deleted records stay as tombstones so `updated_since`
polling and `include_deleted=true` can see deletes. `changes` is the change feed;
`idempotency` keeps the first result of every keyed create, for good.
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from emulators.custompms.errors import ApiError

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id         TEXT PRIMARY KEY,
    resource   TEXT NOT NULL,
    seq_no     INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    parent     TEXT,
    name_key   TEXT,
    data       TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS records_by_seq ON records (resource, seq_no);
CREATE INDEX IF NOT EXISTS records_by_update ON records (resource, updated_at, seq_no);
CREATE INDEX IF NOT EXISTS records_by_parent ON records (resource, parent);
CREATE INDEX IF NOT EXISTS records_by_name ON records (resource, name_key);
CREATE TABLE IF NOT EXISTS sequences (
    resource TEXT PRIMARY KEY,
    last     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    seq       INTEGER PRIMARY KEY,
    resource  TEXT NOT NULL,
    record_id TEXT NOT NULL,
    op        TEXT NOT NULL,
    version   INTEGER NOT NULL,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    record    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    client      TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status      INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (client, key)
);
CREATE TABLE IF NOT EXISTS tokens (
    token  TEXT PRIMARY KEY,
    client TEXT NOT NULL
);
"""

RECORD_COLUMNS = "id, version, created_at, updated_at, deleted_at, data"


def connect(path: Path | None) -> sqlite3.Connection:
    """Open (and create) the database; `None` = a private in-memory database."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    # One connection shared by the request threads; the store serialises access with a lock.
    conn = sqlite3.connect(
        ":memory:" if path is None else str(path), check_same_thread=False, isolation_level=None
    )
    conn.row_factory = sqlite3.Row
    if path is not None:
        # WAL + NORMAL: survives a crash of the process (not of the machine) and is fast.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(SCHEMA)
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK when the block raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def row_to_record(row: sqlite3.Row) -> dict[str, Any]:
    """The API form of a stored record: metadata first, then the resource's fields."""
    record: dict[str, Any] = {
        "id": row["id"],
        "version": row["version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "deleted_at": row["deleted_at"],
    }
    record.update(json.loads(row["data"]))
    return record


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, mode: str) -> dict[str, Any]:
    """The position inside an opaque cursor; 400 when it is not one this listing issued."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        position = None
    valid = (
        isinstance(position, dict)
        and position.get("m") == mode
        and isinstance(position.get("n"), int)
        and (mode != "updated" or isinstance(position.get("u"), str))
    )
    if not valid:
        raise ApiError(
            400,
            "invalid_parameter",
            "cursor is not a next_cursor of this listing; start again without cursor",
            "cursor",
        )
    assert isinstance(position, dict)
    return position
