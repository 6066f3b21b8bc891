"""Typed values the Custompms client returns or accepts (records themselves stay dicts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Resource = Literal["customers", "projects", "tasks"]
RESOURCES: tuple[Resource, ...] = ("customers", "projects", "tasks")
Op = Literal["create", "update", "delete"]

#: The API's batch limit; the client splits longer lists into chunks of this size.
MAX_BATCH_OPERATIONS = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class BatchOperation:
    """One item of `POST /{resource}/batch`. Use the `create`/`update`/`delete` builders."""

    op: Op
    id: str | None = None
    data: Mapping[str, Any] | None = None
    if_match: int | None = None
    idempotency_key: str | None = None
    cascade: bool = False

    @classmethod
    def create(cls, data: Mapping[str, Any], idempotency_key: str | None = None) -> BatchOperation:
        return cls("create", data=data, idempotency_key=idempotency_key)

    @classmethod
    def update(
        cls, record_id: str, patch: Mapping[str, Any], if_match: int | None = None
    ) -> BatchOperation:
        return cls("update", id=record_id, data=patch, if_match=if_match)

    @classmethod
    def delete(
        cls, record_id: str, if_match: int | None = None, *, cascade: bool = False
    ) -> BatchOperation:
        return cls("delete", id=record_id, if_match=if_match, cascade=cascade)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"op": self.op}
        if self.id is not None:
            body["id"] = self.id
        if self.data is not None:
            body["data"] = dict(self.data)
        if self.if_match is not None:
            body["if_match"] = self.if_match
        if self.idempotency_key is not None:
            body["idempotency_key"] = self.idempotency_key
        if self.cascade:
            body["cascade"] = True
        return body


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """The API's `{"code", "message", "field"}`, and what two codes add: the record an
    idempotency key made already (`idempotency_key_reused`: `original.id`) and the version a
    record is at (`version_mismatch`: `current_version`)."""

    code: str
    message: str
    field: str | None
    record_id: str | None = None
    current_version: int | None = None

    @classmethod
    def from_json(cls, body: Any) -> ErrorDetail | None:
        if not isinstance(body, Mapping):
            return None
        error = body.get("error", body)
        if not isinstance(error, Mapping) or "code" not in error:
            return None
        field = error.get("field")
        original = error.get("original")
        named = original.get("id") if isinstance(original, Mapping) else error.get("record_id")
        current = error.get("current_version")
        return cls(
            str(error["code"]),
            str(error.get("message", "")),
            field and str(field),
            str(named) if named else None,
            current if isinstance(current, int) and not isinstance(current, bool) else None,
        )


@dataclass(frozen=True, slots=True)
class BatchItemResult:
    """The outcome of one batch operation; `index` is its position in the caller's list."""

    index: int
    status: int
    operation: BatchOperation
    record: dict[str, Any] | None
    error: ErrorDetail | None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One entry of the change feed. For `op == "delete"`, `record` is the last live state."""

    seq: int
    resource: Resource
    id: str
    op: Op
    version: int
    at: str
    actor: str
    record: dict[str, Any]

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> FeedEntry:
        return cls(
            seq=int(item["seq"]),
            resource=item["resource"],
            id=str(item["id"]),
            op=item["op"],
            version=int(item["version"]),
            at=str(item["at"]),
            actor=str(item["actor"]),
            record=dict(item["record"]),
        )


@dataclass(frozen=True, slots=True)
class MalformedFeedEntry:
    """A feed entry the client could not read: its raw JSON, its seq and id where readable."""

    raw: Any
    reason: str
    seq: int | None = None
    id: str | None = None
    resource: str | None = None

    @classmethod
    def of(cls, raw: Any, exc: Exception) -> MalformedFeedEntry:
        item = raw if isinstance(raw, Mapping) else {}
        seq = item.get("seq")
        return cls(
            raw=raw,
            reason=f"{type(exc).__name__}: {exc}",
            seq=seq if isinstance(seq, int) else None,
            id=str(item["id"]) if item.get("id") is not None else None,
            resource=str(item["resource"]) if item.get("resource") is not None else None,
        )


@dataclass(frozen=True, slots=True)
class ChangesPage:
    """A page of the feed; pass `next` as `after` to continue (it equals `after` when idle).

    `malformed` holds the entries of the page that could not be read (they are not in
    `changes`); `next` moves past them too."""

    changes: tuple[FeedEntry, ...]
    next: int
    malformed: tuple[MalformedFeedEntry, ...] = ()
