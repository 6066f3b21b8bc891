"""The emulator's SQLite file (or in-memory database): records, tokens, credentials, log.

Callers hold the store's lock around every call, so one connection is shared by the
threadpool safely. Values are stored as JSON in Salesforce's own wire formats.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from emulators.salesforce import timefmt
from emulators.salesforce.schema import ObjectDef

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY, sobject TEXT NOT NULL, data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS credentials (
    username TEXT PRIMARY KEY, user_id TEXT NOT NULL, salt TEXT NOT NULL, digest TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, user_id TEXT NOT NULL, issued_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY, data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def encode(obj: ObjectDef, values: Mapping[str, Any]) -> str:
    """Record fields as JSON text (datetimes and dates in Salesforce format)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, datetime):
            out[name] = timefmt.format_datetime(value)
        elif isinstance(value, date):
            out[name] = value.isoformat()
        else:
            out[name] = value
    return json.dumps(out, separators=(",", ":"))


def decode(obj: ObjectDef, text: str) -> dict[str, Any]:
    raw = json.loads(text)
    out: dict[str, Any] = {}
    for name, value in raw.items():
        fdef = obj.field(name)
        if fdef is not None and value is not None and fdef.type == "datetime":
            out[name] = timefmt.parse_datetime(value)
        elif fdef is not None and value is not None and fdef.type == "date":
            out[name] = timefmt.parse_date(value)
        else:
            out[name] = value
    return out


class Database:
    """Thin wrapper over one sqlite3 connection."""

    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(
            str(path) if path is not None else ":memory:",
            check_same_thread=False,
            isolation_level=None,
        )
        if path is not None:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def load_records(self) -> Iterable[tuple[str, str, str]]:
        return self.conn.execute("SELECT id, sobject, data FROM records ORDER BY id").fetchall()

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def meta_items(self, prefix: str) -> list[tuple[str, str]]:
        rows = self.conn.execute(
            "SELECT key, value FROM meta WHERE key LIKE ?", (prefix + "%",)
        ).fetchall()
        return [(str(k), str(v)) for k, v in rows]

    @staticmethod
    def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @staticmethod
    def put_records(conn: sqlite3.Connection, rows: Iterable[tuple[str, str, str]]) -> None:
        conn.executemany(
            "INSERT INTO records(id, sobject, data) VALUES(?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET data = excluded.data",
            rows,
        )

    @staticmethod
    def add_changes(conn: sqlite3.Connection, rows: Iterable[tuple[int, str]]) -> None:
        conn.executemany("INSERT INTO changes(seq, data) VALUES(?, ?)", rows)

    def close(self) -> None:
        self.conn.close()
