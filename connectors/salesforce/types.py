"""Typed results of the Salesforce client (frozen dataclasses)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple


@dataclass(frozen=True, slots=True)
class RecordIssue:
    """One error of a record write: Salesforce's statusCode/errorCode, message, fields."""

    code: str
    message: str
    fields: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> RecordIssue:
        code = item.get("statusCode") or item.get("errorCode") or "UNKNOWN"
        return cls(str(code), str(item.get("message", "")), tuple(item.get("fields") or ()))


@dataclass(frozen=True, slots=True)
class RecordResult:
    """The outcome of one record in an sObject Collections call."""

    id: str | None
    success: bool
    errors: tuple[RecordIssue, ...] = ()

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> RecordResult:
        return cls(
            item.get("id"),
            bool(item.get("success")),
            tuple(RecordIssue.from_json(e) for e in item.get("errors") or ()),
        )


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the client is logged in as."""

    user_id: str
    org_id: str
    username: str | None = None
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class UpdatedRecords:
    ids: tuple[str, ...]
    latest_date_covered: datetime


@dataclass(frozen=True, slots=True)
class DeletedRecord:
    id: str
    deleted_date: datetime


@dataclass(frozen=True, slots=True)
class DeletedRecords:
    records: tuple[DeletedRecord, ...]
    earliest_date_available: datetime | None
    latest_date_covered: datetime


class ApiUsage(NamedTuple):
    """From `Sforce-Limit-Info: api-usage=used/limit`; unpacks as `(used, limit)`."""

    used: int
    limit: int

    @property
    def fraction(self) -> float:
        return self.used / self.limit if self.limit else 0.0


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """One record of an sObject Collections upsert: created or updated (or failed)."""

    id: str | None
    success: bool
    created: bool
    errors: tuple[RecordIssue, ...] = ()

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> UpsertResult:
        return cls(
            item.get("id"),
            bool(item.get("success")),
            bool(item.get("created")),
            tuple(RecordIssue.from_json(e) for e in item.get("errors") or ()),
        )


@dataclass(frozen=True, slots=True)
class BulkQueryJob:
    """A Bulk API 2.0 query job as Salesforce reports it."""

    id: str
    state: str
    operation: str
    object: str
    column_delimiter: str = "COMMA"
    line_ending: str = "LF"
    records_processed: int = 0
    error_message: str | None = None

    @property
    def done(self) -> bool:
        return self.state in ("JobComplete", "Aborted", "Failed")

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> BulkQueryJob:
        return cls(
            id=str(body["id"]),
            state=str(body["state"]),
            operation=str(body.get("operation", "query")),
            object=str(body.get("object", "")),
            column_delimiter=str(body.get("columnDelimiter", "COMMA")),
            line_ending=str(body.get("lineEnding", "LF")),
            records_processed=int(body.get("numberRecordsProcessed") or 0),
            error_message=body.get("errorMessage"),
        )


@dataclass(frozen=True, slots=True)
class BulkResultPage:
    """One page of a query job's results; `locator` is None after the last page."""

    records: tuple[dict[str, Any], ...]
    locator: str | None
