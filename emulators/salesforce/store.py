"""The record store: an in-memory index over the SQLite file, one lock, atomic batches.

Every write goes through `apply`, which validates a batch of operations against a staged
copy, then commits all of them (or, with all-or-none, none) to memory and SQLite in one
transaction under the store's lock. So parallel requests never lose an update, and every
record written by one call shares one SystemModstamp, as in Salesforce.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from emulators.salesforce import ids, timefmt
from emulators.salesforce.catalog import Catalog
from emulators.salesforce.errors import ErrorItem, RecordError
from emulators.salesforce.persistence import Database, decode, encode
from emulators.salesforce.schema import ObjectDef
from emulators.salesforce.validation import apply_defaults, derive, prepare_write

OpKind = Literal["create", "update", "delete"]
Record = dict[str, Any]

ROLLED_BACK = ErrorItem(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who writes: the authenticated user and the `Sforce-Call-Options` client name.

    `api_version` is the REST API version of the writing request (`60.0`), when known.
    """

    user_id: str
    origin: str | None = None
    api_version: str | None = None


@dataclass(frozen=True, slots=True)
class Op:
    kind: OpKind
    sobject: str | None = None
    record_id: str | None = None
    body: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OpResult:
    id: str | None
    success: bool
    errors: tuple[ErrorItem, ...] = ()
    status: int = 200


@dataclass(frozen=True, slots=True)
class CommittedChange:
    """One record write of a committed transaction, as change listeners see it."""

    sobject: ObjectDef
    id: str
    kind: OpKind
    before: Record | None
    after: Record


#: Called under the store's lock after every committed transaction, in commit order, with
#: the transaction's writes, the caller and the commit time (the Pub/Sub event bus).
ChangeListener = Callable[[Sequence[CommittedChange], Caller, datetime], None]


@dataclass(slots=True)
class _Staged:
    sobject: ObjectDef
    id: str
    before: Record | None
    after: Record
    kind: OpKind
    written: tuple[str, ...]


class Store:
    """Records of every sObject, durable in SQLite, safe under parallel requests."""

    def __init__(self, path: Path | None, catalog: Catalog | None = None) -> None:
        self.lock = threading.RLock()
        self.db = Database(path)
        #: The objects and fields of this instance (standard plus configured custom fields).
        self.catalog = catalog or Catalog()
        self._records: dict[str, dict[str, Record]] = {}
        # id -> object name; the definition is looked up in the catalog, which may change.
        self._type_of: dict[str, str] = {}
        for record_id, sobject, data in self.db.load_records():
            obj = self.catalog.find(sobject)
            if obj is not None:
                self._index(obj, record_id, decode(obj, data))
        counters = {k.split(":", 1)[1]: int(v) for k, v in self.db.meta_items("counter:")}
        self.minter = ids.IdMinter(counters)
        self.listeners: list[ChangeListener] = []
        self.changes: list[dict[str, Any]] = [
            json.loads(row[0])
            for row in self.db.conn.execute("SELECT data FROM changes ORDER BY seq")
        ]

    # -- reads ---------------------------------------------------------------------------

    def _index(self, obj: ObjectDef, record_id: str, record: Record) -> None:
        self._records.setdefault(obj.name, {})[record_id] = record
        self._type_of[record_id] = obj.name

    def get(self, record_id: str) -> tuple[ObjectDef, Record] | None:
        """A record by canonical id, deleted or not."""
        with self.lock:
            name = self._type_of.get(record_id)
            obj = self.catalog.find(name) if name is not None else None
            if obj is None:
                return None
            return obj, self._records[obj.name][record_id]

    def lookup(self, record_id: str) -> tuple[str, Record] | None:
        """A live (not deleted) record by canonical id, for reference checks and joins."""
        found = self.get(record_id)
        if found is None or found[1].get("IsDeleted"):
            return None
        return found[0].name, found[1]

    def snapshot(self, obj: ObjectDef, *, include_deleted: bool = False) -> list[Record]:
        """All records of a type. Records are replaced, never mutated, so the list is stable."""
        with self.lock:
            rows = list(self._records.get(obj.name, {}).values())
        return rows if include_deleted else [r for r in rows if not r.get("IsDeleted")]

    def find_by(self, obj: ObjectDef, field_name: str, value: str) -> list[str]:
        """Ids of live records whose text field equals `value` (case-insensitively)."""
        wanted = value.casefold()
        return [
            r["Id"]
            for r in self.snapshot(obj)
            if isinstance(r.get(field_name), str) and r[field_name].casefold() == wanted
        ]

    # -- writes --------------------------------------------------------------------------

    def apply(
        self,
        ops: Sequence[Op],
        caller: Caller,
        *,
        all_or_none: bool = False,
        admin: bool = False,
    ) -> list[OpResult]:
        """Carry out a batch of creates/updates/deletes; per-operation results in order."""
        with self.lock:
            now = timefmt.now()
            staged: dict[str, _Staged] = {}
            results: list[OpResult] = []
            for op in ops:
                try:
                    item = self._stage(op, caller, now, staged, admin)
                except RecordError as exc:
                    results.append(OpResult(_known_id(op), False, tuple(exc.items), exc.status))
                    continue
                staged[item.id] = item
                results.append(OpResult(item.id, True, status=201 if op.kind == "create" else 200))
            if all_or_none and not all(r.success for r in results):
                return [
                    r
                    if not r.success
                    else OpResult(None if op.kind == "create" else r.id, False, (ROLLED_BACK,), 400)
                    for op, r in zip(ops, results, strict=True)
                ]
            self._commit(list(staged.values()), caller, now)
            return results

    def _current(
        self, record_id: str, staged: Mapping[str, _Staged]
    ) -> tuple[ObjectDef, Record] | None:
        if record_id in staged:
            return staged[record_id].sobject, staged[record_id].after
        return self.get(record_id)

    def _stage(
        self,
        op: Op,
        caller: Caller,
        now: datetime,
        staged: Mapping[str, _Staged],
        admin: bool,
    ) -> _Staged:
        if op.kind == "create":
            return self._stage_create(op, caller, now, admin)
        record_id = _canonical_id(op.record_id)
        found = self._current(record_id, staged)
        if found is None:
            raise RecordError(
                [ErrorItem("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")], status=404
            )
        obj, before = found
        if op.sobject is not None and op.sobject.casefold() != obj.name.casefold():
            raise RecordError(
                [
                    ErrorItem(
                        "MALFORMED_ID",
                        f"{op.sobject} ID: id value of incorrect type: {op.record_id}",
                        ("Id",),
                    )
                ]
            )
        if before.get("IsDeleted"):
            raise RecordError([ErrorItem("ENTITY_IS_DELETED", "entity is deleted")], status=404)
        stamp = {"LastModifiedDate": now, "SystemModstamp": now, "LastModifiedById": caller.user_id}
        if op.kind == "delete":
            if not obj.deletable:
                raise _wrong_operation("deleted", obj)
            after = {**before, **stamp, "IsDeleted": True}
            return _Staged(obj, record_id, before, after, "delete", ())
        if not obj.updateable and not admin:
            raise _wrong_operation("updated", obj)
        values = prepare_write(obj, op.body, creating=False, lookup=self.lookup, admin=admin)
        values.pop("Id", None)
        after = {**before, **stamp, **values}
        derive(obj, before, after, now)
        if admin:
            after.update(values)
        return _Staged(obj, record_id, before, after, "update", tuple(values))

    def _stage_create(self, op: Op, caller: Caller, now: datetime, admin: bool) -> _Staged:
        obj = self.catalog.find(op.sobject or "")
        if obj is None:
            raise RecordError([ErrorItem("INVALID_TYPE", "Must send a concrete entity type.")])
        if not obj.createable and not admin:
            raise _wrong_operation("inserted", obj)
        values = prepare_write(obj, op.body, creating=True, lookup=self.lookup, admin=admin)
        written = tuple(values)
        apply_defaults(obj, values, caller.user_id)
        given = values.pop("Id", None)
        record_id = _canonical_id(given) if given else self.minter.mint(obj.key_prefix)
        record: Record = {
            "Id": record_id,
            "CreatedDate": now,
            "CreatedById": caller.user_id,
            "LastModifiedDate": now,
            "LastModifiedById": caller.user_id,
            "SystemModstamp": now,
        }
        if obj.field("IsDeleted") is not None:
            record["IsDeleted"] = False
        record.update(values)
        derive(obj, None, record, now)
        if admin:
            record.update(values)  # fixtures may set derived fields (CompletedDateTime) too
        return _Staged(obj, record_id, None, record, "create", written)

    def _commit(self, items: list[_Staged], caller: Caller, now: datetime) -> None:
        if not items:
            return
        stamp = timefmt.format_datetime(now)
        first_seq = len(self.changes) + 1
        changes: list[dict[str, Any]] = [
            {
                "seq": first_seq + n,
                "ts": stamp,
                "sobject": item.sobject.name,
                "id": item.id,
                "op": item.kind,
                "changeOrigin": caller.origin or "",
                "userId": caller.user_id,
                "fields": sorted(item.written),
            }
            for n, item in enumerate(items)
        ]
        with self.db.transaction() as conn:
            Database.put_records(
                conn, [(i.id, i.sobject.name, encode(i.sobject, i.after)) for i in items]
            )
            Database.add_changes(conn, [(int(c["seq"]), json.dumps(c)) for c in changes])
            for prefix, number in self.minter.counters.items():
                Database.set_meta(conn, f"counter:{prefix}", str(number))
        for item in items:
            self._index(item.sobject, item.id, item.after)
        self.changes.extend(changes)
        if self.listeners:
            committed = [CommittedChange(i.sobject, i.id, i.kind, i.before, i.after) for i in items]
            for listener in self.listeners:
                listener(committed, caller, now)

    # -- maintenance -----------------------------------------------------------------------

    def purge_deleted(self) -> int:
        """Empty the recycle bin: physically remove deleted records (getDeleted then fails
        for windows that start before now, as after a real purge)."""
        with self.lock:
            doomed = [
                (name, rid)
                for rid, name in self._type_of.items()
                if self._records[name][rid].get("IsDeleted")
            ]
            with self.db.transaction() as conn:
                conn.executemany("DELETE FROM records WHERE id = ?", [(rid,) for _, rid in doomed])
                Database.set_meta(conn, "purged_at", timefmt.format_datetime(timefmt.now()))
            for name, rid in doomed:
                del self._records[name][rid]
                del self._type_of[rid]
            return len(doomed)

    def purged_at(self) -> datetime | None:
        with self.lock:
            value = self.db.meta("purged_at")
        return timefmt.parse_datetime(value) if value else None

    def meta(self, key: str) -> str | None:
        with self.lock:
            return self.db.meta(key)

    def set_meta(self, key: str, value: str) -> None:
        with self.lock, self.db.transaction() as conn:
            Database.set_meta(conn, key, value)

    def clear_changes(self) -> None:
        with self.lock, self.db.transaction() as conn:
            conn.execute("DELETE FROM changes")
            self.changes.clear()

    def delete_all(self, obj: ObjectDef) -> None:
        """Physically remove every record of a type (the admin reset)."""
        with self.lock:
            with self.db.transaction() as conn:
                conn.execute("DELETE FROM records WHERE sobject = ?", (obj.name,))
            for rid in self._records.pop(obj.name, {}):
                self._type_of.pop(rid, None)


def _wrong_operation(verb: str, obj: ObjectDef) -> RecordError:
    return RecordError(
        [ErrorItem("INVALID_TYPE_FOR_OPERATION", f"entity type cannot be {verb}: {obj.label}")]
    )


def _canonical_id(value: str | None) -> str:
    try:
        return ids.normalize(value or "")
    except ids.MalformedId as exc:
        raise RecordError([ErrorItem("MALFORMED_ID", f"malformed id {value}", ("Id",))]) from exc


def _known_id(op: Op) -> str | None:
    if op.kind == "create" or op.record_id is None:
        return None
    try:
        return ids.normalize(op.record_id)
    except ids.MalformedId:
        return op.record_id
