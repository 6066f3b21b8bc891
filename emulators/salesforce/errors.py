"""Salesforce-shaped errors: `[{"message", "errorCode", "fields"?}]` with an HTTP status."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ErrorItem:
    """One entry of a Salesforce error list."""

    code: str
    message: str
    fields: tuple[str, ...] | None = None

    def rest(self) -> dict[str, object]:
        """The single-resource REST shape (`errorCode`)."""
        body: dict[str, object] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            body["fields"] = list(self.fields)
        return body

    def collection(self) -> dict[str, object]:
        """The sObject Collections / SaveResult shape (`statusCode`)."""
        return {"statusCode": self.code, "message": self.message, "fields": list(self.fields or ())}


class ApiError(Exception):
    """An error response: HTTP status and the error list."""

    def __init__(self, status: int, items: list[ErrorItem]) -> None:
        super().__init__(items[0].message if items else f"HTTP {status}")
        self.status = status
        self.items = items

    @classmethod
    def one(
        cls, status: int, code: str, message: str, fields: tuple[str, ...] | None = None
    ) -> ApiError:
        return cls(status, [ErrorItem(code, message, fields)])

    def body(self) -> list[dict[str, object]]:
        return [item.rest() for item in self.items]


class RecordError(Exception):
    """Validation failed for one record; carries the DML errors."""

    def __init__(self, items: list[ErrorItem], *, status: int = 400) -> None:
        super().__init__(items[0].message if items else "record error")
        self.items = items
        self.status = status


NOT_FOUND_MESSAGE = "The requested resource does not exist"


def not_found(message: str = NOT_FOUND_MESSAGE) -> ApiError:
    return ApiError.one(404, "NOT_FOUND", message)


def session_invalid() -> ApiError:
    return ApiError.one(401, "INVALID_SESSION_ID", "Session expired or invalid")


def method_not_allowed(method: str, allowed: str) -> ApiError:
    return ApiError.one(
        405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are {allowed}"
    )


def fault_body(status: int, message: str) -> bytes:
    """Body of an injected fault, in Salesforce's error shape."""
    if status == 429:
        code = "REQUEST_LIMIT_EXCEEDED"
    elif status == 503:
        code = "SERVER_UNAVAILABLE"
    else:
        code = "UNKNOWN_EXCEPTION"
    return json.dumps([{"message": message, "errorCode": code}]).encode()
