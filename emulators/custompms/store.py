"""The durable store behind the Custompms API: records, versions, idempotency, change feed.

Every write runs under one lock inside one SQLite transaction, and takes its change-feed
`seq` and its timestamp inside that transaction. So `seq` is gap-free in commit order,
`updated_at` never goes backwards, and no update is lost, however many requests arrive at
once. Reads take the same lock (they share the connection); the emulator is not a
throughput benchmark of SQLite.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulators.custompms.custom_fields import CustomFields, with_custom_fields
from emulators.custompms.db import RECORD_COLUMNS, connect, dumps, row_to_record, transaction
from emulators.custompms.errors import ApiError
from emulators.custompms.listing import ListQuery, build_sql, name_key, page_rows
from emulators.custompms.resources import RESOURCES, ResourceSpec, apply_patch, children_of
from emulators.custompms.values import Clock


@dataclass(frozen=True, slots=True)
class CreateResult:
    status: int
    record: dict[str, Any]
    #: True when an earlier request with the same idempotency key produced this result
    replayed: bool


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


class Store:
    """All state of one emulator instance (thread-safe)."""

    def __init__(self, path: Path | None, custom_fields: CustomFields | None = None) -> None:
        custom = custom_fields or CustomFields()
        #: The resources of this instance, their models extended by the declared custom fields.
        self.specs: dict[str, ResourceSpec] = {
            name: with_custom_fields(spec, custom.of(name)) for name, spec in RESOURCES.items()
        }
        self._conn = connect(path)
        self._lock = threading.RLock()
        self.clock = Clock()
        newest = self._conn.execute("SELECT MAX(updated_at) FROM records").fetchone()[0]
        if newest:
            self.clock.observe(newest.replace("Z", "+00:00"))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @property
    def lock(self) -> threading.RLock:
        """Held across a batch so its items commit back to back (re-entrant)."""
        return self._lock

    def spec_for(self, resource: str) -> ResourceSpec:
        try:
            return self.specs[resource]
        except KeyError:
            raise ApiError(404, "not_found", f"no resource named {resource!r}") from None

    # -- tokens ---------------------------------------------------------------------------

    def add_token(self, token: str, client: str) -> None:
        with self._lock, transaction(self._conn) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO tokens (token, client) VALUES (?, ?)", (token, client)
            )

    def token_client(self, token: str) -> str | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT client FROM tokens WHERE token = ?", (token,)
            ).fetchone()
        return None if row is None else str(row["client"])

    # -- reads ----------------------------------------------------------------------------

    def is_empty(self) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM records LIMIT 1").fetchone() is None

    def get(self, resource: str, record_id: str) -> dict[str, Any]:
        spec = self.spec_for(resource)
        with self._lock:
            return spec.shown(row_to_record(self._live_row(spec, record_id)))

    def list_page(
        self,
        resource: str,
        *,
        limit: int,
        cursor: str | None = None,
        updated_since: str | None = None,
        include_deleted: bool = False,
        filters: Mapping[str, str] | None = None,
    ) -> Page:
        """One page, by id (creation order), or by (updated_at, id) when `updated_since` is set."""
        spec = self.spec_for(resource)
        query = ListQuery(spec, limit, cursor, updated_since, include_deleted, filters)
        sql, params = build_sql(query)
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        rows_of_page, next_cursor = page_rows(query, rows)
        return Page([spec.shown(row_to_record(row)) for row in rows_of_page], next_cursor)

    def changes(self, after: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        """Changes with seq > after, oldest first, and the `after` to pass next time."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
            ).fetchall()
        changes = [
            {
                "seq": row["seq"],
                "resource": row["resource"],
                "id": row["record_id"],
                "op": row["op"],
                "version": row["version"],
                "at": row["at"],
                "actor": row["actor"],
                "record": self.spec_for(row["resource"]).shown(json.loads(row["record"])),
            }
            for row in rows
        ]
        return changes, (changes[-1]["seq"] if changes else after)

    # -- writes ---------------------------------------------------------------------------

    def create(
        self,
        resource: str,
        data: Any,
        actor: str,
        idempotency_key: str | None = None,
        *,
        key_field: str = "Idempotency-Key",
    ) -> CreateResult:
        """Create a record, or replay the first result of an earlier call with the same key."""
        spec = self.spec_for(resource)
        fields = spec.validate_create(data)
        fingerprint = hashlib.sha256(
            json.dumps([spec.name, fields], sort_keys=True).encode()
        ).hexdigest()
        with self._lock, transaction(self._conn) as conn:
            if idempotency_key is not None:
                earlier = conn.execute(
                    "SELECT fingerprint, status, body FROM idempotency"
                    " WHERE client = ? AND key = ?",
                    (actor, idempotency_key),
                ).fetchone()
                if earlier is not None:
                    first = json.loads(earlier["body"])
                    if earlier["fingerprint"] != fingerprint:
                        raise ApiError(
                            422,
                            "idempotency_key_reused",
                            "this idempotency key was already used for a different request "
                            f"(which created {first['id']}); use a new key for a new record",
                            key_field,
                            extra={
                                "original": {
                                    "status": earlier["status"],
                                    "id": first["id"],
                                    "version": first["version"],
                                }
                            },
                        )
                    return CreateResult(earlier["status"], spec.shown(first), True)
            self._check_references(conn, spec, fields, fields.keys())
            number = self._next_number(conn, spec.name)
            record_id, now = spec.new_id(number), self.clock.now()
            parent, key = self._indexed(spec, fields)
            conn.execute(
                "INSERT INTO records (id, resource, seq_no, version, created_at, updated_at,"
                " parent, name_key, data) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?)",
                (record_id, spec.name, number, now, now, parent, key, dumps(fields)),
            )
            record = {
                "id": record_id,
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "deleted_at": None,
                **fields,
            }
            self._add_change(conn, spec.name, record_id, "create", 1, now, actor, record)
            if idempotency_key is not None:
                conn.execute(
                    "INSERT INTO idempotency (client, key, fingerprint, status, body, created_at)"
                    " VALUES (?, ?, ?, 201, ?, ?)",
                    (actor, idempotency_key, fingerprint, dumps(record), now),
                )
            return CreateResult(201, record, False)

    def update(
        self,
        resource: str,
        record_id: str,
        patch: Any,
        actor: str,
        if_match: int | None = None,
        *,
        if_match_field: str = "If-Match",
    ) -> dict[str, Any]:
        """Apply a partial update; a patch that changes nothing bumps nothing and logs nothing."""
        spec = self.spec_for(resource)
        changes = spec.validate_patch(patch)
        with self._lock, transaction(self._conn) as conn:
            row = self._live_row(spec, record_id)
            self._check_version(spec, row, if_match, if_match_field)
            current = json.loads(row["data"])
            merged = apply_patch(current, changes)
            if merged == current:
                return spec.shown(row_to_record(row))
            self._check_references(conn, spec, merged, changes.keys())
            version, now = row["version"] + 1, self.clock.now()
            conn.execute(
                "UPDATE records SET version = ?, updated_at = ?, parent = ?, name_key = ?, data = ?"
                " WHERE id = ?",
                (version, now, *self._indexed(spec, merged), dumps(merged), record_id),
            )
            record = {**row_to_record(row), "version": version, "updated_at": now, **merged}
            record = spec.shown(record)
            self._add_change(conn, spec.name, record_id, "update", version, now, actor, record)
            return record

    def delete(
        self,
        resource: str,
        record_id: str,
        actor: str,
        if_match: int | None = None,
        *,
        cascade: bool = False,
        if_match_field: str = "If-Match",
    ) -> None:
        """Delete (tombstone) a record; dependents block it (409) unless `cascade`."""
        spec = self.spec_for(resource)
        with self._lock, transaction(self._conn) as conn:
            row = self._live_row(spec, record_id)
            self._check_version(spec, row, if_match, if_match_field)
            self._delete_tree(conn, spec, row, actor, cascade)

    # -- internals (lock held) ------------------------------------------------------------

    def _live_row(self, spec: ResourceSpec, record_id: str) -> sqlite3.Row:
        row = self._conn.execute(
            f"SELECT {RECORD_COLUMNS} FROM records WHERE id = ? AND resource = ?",  # noqa: S608 - constant column list
            (record_id, spec.name),
        ).fetchone()
        if row is None:
            raise ApiError(404, "not_found", f"{spec.singular} {record_id} does not exist", "id")
        if row["deleted_at"] is not None:
            deleted = f"{spec.singular} {record_id} was deleted at {row['deleted_at']}"
            raise ApiError(404, "not_found", deleted, "id")
        return row

    @staticmethod
    def _check_version(
        spec: ResourceSpec, row: sqlite3.Row, if_match: int | None, field: str
    ) -> None:
        if if_match is not None and if_match != row["version"]:
            raise ApiError(
                412,
                "version_mismatch",
                f"{spec.singular} {row['id']} is at version {row['version']}, not {if_match}; "
                "read it again and retry with the current version",
                field,
                extra={"current_version": row["version"]},
            )

    def _check_references(
        self, conn: sqlite3.Connection, spec: ResourceSpec, fields: Mapping[str, Any], changed: Any
    ) -> None:
        ref = spec.parent
        if ref is None or ref.field not in changed or fields.get(ref.field) is None:
            return
        target = conn.execute(
            "SELECT deleted_at FROM records WHERE id = ? AND resource = ?",
            (fields[ref.field], ref.target),
        ).fetchone()
        if target is None or target["deleted_at"] is not None:
            raise ApiError(
                422,
                "unknown_reference",
                f"{ref.field}: no live {self.spec_for(ref.target).singular} {fields[ref.field]}",
                ref.field,
            )

    @staticmethod
    def _indexed(spec: ResourceSpec, fields: Mapping[str, Any]) -> tuple[str | None, str | None]:
        parent = fields.get(spec.parent.field) if spec.parent else None
        name = fields.get("name") if spec.name == "customers" else None
        return parent, (name_key(name) if name is not None else None)

    @staticmethod
    def _next_number(conn: sqlite3.Connection, resource: str) -> int:
        conn.execute(
            "INSERT INTO sequences (resource, last) VALUES (?, 1)"
            " ON CONFLICT (resource) DO UPDATE SET last = last + 1",
            (resource,),
        )
        row = conn.execute("SELECT last FROM sequences WHERE resource = ?", (resource,)).fetchone()
        return int(row["last"])

    @staticmethod
    def _add_change(
        conn: sqlite3.Connection,
        resource: str,
        record_id: str,
        op: str,
        version: int,
        at: str,
        actor: str,
        record: Mapping[str, Any],
    ) -> None:
        # seq = MAX + 1 inside the write transaction: gap-free in commit order (a rolled-back
        # transaction takes its seq with it).
        conn.execute(
            "INSERT INTO changes (seq, resource, record_id, op, version, at, actor, record)"
            " SELECT COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ?, ?, ? FROM changes",
            (resource, record_id, op, version, at, actor, dumps(record)),
        )

    def _delete_tree(
        self,
        conn: sqlite3.Connection,
        spec: ResourceSpec,
        row: sqlite3.Row,
        actor: str,
        cascade: bool,
    ) -> None:
        dependents = [
            (child, dependent)
            for child in children_of(spec.name)
            for dependent in conn.execute(
                f"SELECT {RECORD_COLUMNS} FROM records WHERE resource = ? AND parent = ?"  # noqa: S608 - constant column list
                " AND deleted_at IS NULL ORDER BY seq_no",
                (child.name, row["id"]),
            ).fetchall()
        ]
        if dependents and not cascade:
            kinds = sorted({child.name for child, _ in dependents})
            raise ApiError(
                409,
                "has_dependents",
                f"{spec.singular} {row['id']} still has {len(dependents)} {' and '.join(kinds)}; "
                "delete them first or pass cascade=true",
            )
        for child, dependent in dependents:
            self._delete_tree(conn, child, dependent, actor, cascade)
        version, now = row["version"] + 1, self.clock.now()
        conn.execute(
            "UPDATE records SET version = ?, updated_at = ?, deleted_at = ? WHERE id = ?",
            (version, now, now, row["id"]),
        )
        # The change carries the last live state; its `version` is the tombstone's.
        last_state = row_to_record(row)
        self._add_change(conn, spec.name, row["id"], "delete", version, now, actor, last_state)
