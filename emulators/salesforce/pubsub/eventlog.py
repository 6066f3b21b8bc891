"""The event bus's stored stream: positions, opaque replay ids, retention, and waiters.

Events are kept in memory and, when the emulator has a database file, in its SQLite tables
`pubsub_events` / `pubsub_schemas` (so replay ids survive a restart). Events older than the
retention window (72 h by default, as Salesforce keeps change events) are dropped; a
replay id from before the window is refused as Salesforce refuses it.

A replay id is the event's position as 8 big-endian bytes. Clients must treat it as opaque;
the emulator checks every one it is given: wrong length, from the future, or purged ->
`ReplayIdInvalid`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from emulators.salesforce.persistence import Database
from emulators.salesforce.store import Store

RETENTION_S = 72 * 3600
_TABLES = """
CREATE TABLE IF NOT EXISTS pubsub_events (
    position INTEGER PRIMARY KEY, created_ms INTEGER NOT NULL, schema_id TEXT NOT NULL,
    uuid TEXT NOT NULL, payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS pubsub_schemas (schema_id TEXT PRIMARY KEY, schema_json TEXT NOT NULL);
"""
_TIP_KEY = "pubsub:tip"


class ReplayIdInvalid(Exception):
    """The replay id is corrupted, was never issued, or points before the retention window."""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    position: int
    created_ms: int
    schema_id: str
    uuid: str
    payload: bytes

    @property
    def replay_id(self) -> bytes:
        return replay_id(self.position)


def replay_id(position: int) -> bytes:
    return position.to_bytes(8, "big")


class EventLog:
    """Append-only, retention-trimmed, shared by the store's writer threads and the gRPC loop."""

    def __init__(
        self,
        store: Store,
        retention_s: float = RETENTION_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.retention_s = retention_s
        self._clock = clock
        self._lock = threading.Lock()
        self._events: list[StoredEvent] = []
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        with store.lock:
            store.db.conn.executescript(_TABLES)
            rows = store.db.conn.execute(
                "SELECT position, created_ms, schema_id, uuid, payload FROM pubsub_events "
                "ORDER BY position"
            ).fetchall()
            self.schemas: dict[str, str] = dict(
                store.db.conn.execute("SELECT schema_id, schema_json FROM pubsub_schemas")
            )
            tip = store.db.meta(_TIP_KEY)
        self._events = [StoredEvent(int(p), int(c), s, u, bytes(b)) for p, c, s, u, b in rows]
        self._tip = int(tip) if tip else (self._events[-1].position if self._events else 0)
        self.trim()

    # -- writing (under the store's lock, from the committing thread) ----------------------

    def register_schema(self, schema_id: str, schema_json: str) -> None:
        if schema_id in self.schemas:
            return
        with self.store.lock, self.store.db.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO pubsub_schemas(schema_id, schema_json) VALUES(?, ?)",
                (schema_id, schema_json),
            )
        self.schemas[schema_id] = schema_json

    def append(self, items: Sequence[tuple[str, str, bytes]]) -> list[StoredEvent]:
        """Store (schema id, event uuid, Avro payload) items; wake every waiting subscriber."""
        if not items:
            return []
        now_ms = int(self._clock() * 1000)
        with self.store.lock:
            with self._lock:
                first = self._tip + 1
                added = [
                    StoredEvent(first + n, now_ms, schema_id, uuid, payload)
                    for n, (schema_id, uuid, payload) in enumerate(items)
                ]
            with self.store.db.transaction() as conn:
                conn.executemany(
                    "INSERT INTO pubsub_events(position, created_ms, schema_id, uuid, payload) "
                    "VALUES(?, ?, ?, ?, ?)",
                    [(e.position, e.created_ms, e.schema_id, e.uuid, e.payload) for e in added],
                )
                Database.set_meta(conn, _TIP_KEY, str(added[-1].position))
            with self._lock:
                self._events.extend(added)
                self._tip = added[-1].position
                waiters = list(self._waiters)
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)
        self.trim()
        return added

    def trim(self) -> int:
        """Drop events older than the retention window; how many were dropped."""
        cutoff = int((self._clock() - self.retention_s) * 1000)
        with self._lock:
            keep = next(
                (n for n, e in enumerate(self._events) if e.created_ms > cutoff), len(self._events)
            )
            if not keep:
                return 0
            last_dropped = self._events[keep - 1].position
            del self._events[:keep]
        with self.store.lock, self.store.db.transaction() as conn:
            conn.execute("DELETE FROM pubsub_events WHERE position <= ?", (last_dropped,))
        return keep

    # -- reading (any thread) -----------------------------------------------------------------

    @property
    def tip(self) -> int:
        """Position of the newest event ever stored (0 before the first)."""
        with self._lock:
            return self._tip

    def earliest(self) -> int:
        """The position just before the oldest retained event (where EARLIEST starts)."""
        self.trim()
        with self._lock:
            return self._events[0].position - 1 if self._events else self._tip

    def position_of(self, replay: bytes) -> int:
        """The position a CUSTOM subscription resumes after, or ReplayIdInvalid."""
        if len(replay) != 8:
            raise ReplayIdInvalid(f"replay id of {len(replay)} bytes")
        position = int.from_bytes(replay, "big")
        if position > self.tip:
            raise ReplayIdInvalid("replay id was never issued")
        if position < self.earliest():
            raise ReplayIdInvalid("replay id is outside the retention window")
        return position

    def read(self, after: int, limit: int) -> list[StoredEvent]:
        """Up to `limit` retained events after position `after`, oldest first."""
        with self._lock:
            if not self._events or limit <= 0:
                return []
            start = max(0, after + 1 - self._events[0].position)
            return self._events[start : start + limit]

    def all(self) -> list[StoredEvent]:
        with self._lock:
            return list(self._events)

    # -- waiting (the gRPC event loop) -------------------------------------------------------

    def watch(self, loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> None:
        with self._lock:
            self._waiters.add((loop, event))

    def unwatch(self, loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> None:
        with self._lock:
            self._waiters.discard((loop, event))
