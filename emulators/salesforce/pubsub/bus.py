"""The emulated event bus: each committed Task write becomes events on `/data/TaskChangeEvent`.

It listens to the store (one hook, `Store.listeners`, called under the store's lock in
commit order), so every write path (sObject rows, Collections, upsert, composite, the admin
bulk route) publishes without route code knowing. Writes made before the bus exists (the
demo seed) publish nothing, as changes before Change Data Capture is enabled do not.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from datetime import datetime

import fastavro

from emulators.common.stats import RequestStats
from emulators.salesforce import timefmt
from emulators.salesforce.persistence import Database
from emulators.salesforce.pubsub.avro_schema import ChangeEventSchema, change_event_schema
from emulators.salesforce.pubsub.changes import Faults, Transaction, build_events, change_origin
from emulators.salesforce.pubsub.eventlog import RETENTION_S, EventLog
from emulators.salesforce.schema import ObjectDef
from emulators.salesforce.store import Caller, CommittedChange, Store

#: Entities with a change event topic (`/data/<Entity>ChangeEvent`).
ENTITIES = ("Task",)
_COMMIT_KEY = "pubsub:commit_number"
# Commit numbers (Salesforce's system change number) start high, like a real database's.
_FIRST_COMMIT = 10_000_000


class ChangeEventBus:
    """Topics, schemas, the event log and the gap/overflow fault counters of one emulator."""

    def __init__(
        self, store: Store, stats: RequestStats, *, retention_s: float = RETENTION_S
    ) -> None:
        self.store = store
        self.stats = stats
        self.log = EventLog(store, retention_s)
        self.faults = Faults()
        self._schemas: dict[ObjectDef, ChangeEventSchema] = {}
        with store.lock:
            stored = store.db.meta(_COMMIT_KEY)
        self._commit_number = int(stored) if stored else _FIRST_COMMIT
        store.listeners.append(self._on_commit)

    # -- topics and schemas --------------------------------------------------------------

    def schema(self, topic: str) -> ChangeEventSchema | None:
        """The current schema of `topic`, rebuilt when the entity's fields change."""
        for entity in ENTITIES:
            if topic != f"/data/{entity}ChangeEvent":
                continue
            obj = self.store.catalog.find(entity)
            if obj is None:
                return None
            # Keyed by the definition itself: a changed field list is a new schema (id).
            cached = self._schemas.get(obj)
            if cached is None:
                cached = change_event_schema(obj)
                self._schemas[obj] = cached
                self.log.register_schema(cached.schema_id, cached.schema_json)
            return cached
        return None

    def schema_json(self, schema_id: str) -> str | None:
        """Any schema an event was ever written with (old ones stay readable)."""
        for entity in ENTITIES:
            self.schema(f"/data/{entity}ChangeEvent")
        return self.log.schemas.get(schema_id)

    # -- publishing ------------------------------------------------------------------------

    def _on_commit(
        self, changes: Sequence[CommittedChange], caller: Caller, committed: datetime
    ) -> None:
        for entity in ENTITIES:
            mine = [c for c in changes if c.sobject.name == entity]
            schema = self.schema(f"/data/{entity}ChangeEvent") if mine else None
            if schema is None:
                continue
            self._commit_number += 1
            tx = Transaction(
                key=str(uuid.uuid4()),
                commit_number=self._commit_number,
                timestamp_ms=timefmt.to_ms(committed),
                user_id=caller.user_id,
                origin=change_origin(caller),
            )
            bodies = build_events(schema, mine, tx, self.faults)
            with self.store.db.transaction() as conn:
                Database.set_meta(conn, _COMMIT_KEY, str(self._commit_number))
            items = []
            for body in bodies:
                buffer = io.BytesIO()
                fastavro.schemaless_writer(buffer, schema.parsed, body.record())
                items.append((schema.schema_id, str(uuid.uuid4()), buffer.getvalue()))
            self.log.append(items)
            self.stats.count("pubsub.events.published", len(items))
