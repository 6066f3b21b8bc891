"""Every error the Custompms API returns has one shape: `{"error": {"code", "message", "field"}}`.

`ApiError` is raised by the store and the routes; the handlers installed by
`install_error_handlers` turn it, FastAPI's request validation and Starlette's HTTP errors
into that shape. Validation messages never echo the offending value (it may be personal data).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error response: HTTP status, machine-readable code, human message, field."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})
        #: Error-specific members of the `error` object (`current_version`, `original`).
        self.extra = dict(extra or {})

    def detail(self) -> dict[str, Any]:
        """The inner `error` object (also used for per-item batch results)."""
        return {"code": self.code, "message": self.message, "field": self.field, **self.extra}

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.detail()}, self.status, headers=self.headers)


def fault_error_body(status: int, message: str) -> bytes:
    """The body of an injected fault, in the API's own error shape."""
    code = "rate_limited" if status == 429 else "unavailable" if status == 503 else "server_error"
    return json.dumps({"error": {"code": code, "message": message, "field": None}}).encode()


def _code_and_message(error: Mapping[str, Any]) -> tuple[str, str]:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "required", "is required"
    if kind == "extra_forbidden":
        return "unknown_field", "is not a field of this resource (see docs/custompms-api.md)"
    if error.get("input", ...) is None and kind.endswith("_type"):
        return "null_not_allowed", "may not be null"
    if kind in ("string_too_long", "too_long"):
        limit = ctx.get("max_length")
        unit = "characters" if kind == "string_too_long" else "items"
        return "too_long", f"must have at most {limit} {unit}"
    if kind in ("string_too_short", "string_pattern_mismatch"):
        return "blank", "must not be blank"
    if kind == "literal_error":
        return "invalid_choice", f"must be one of {ctx.get('expected')}"
    if kind == "value_error":
        return "invalid_format", str(ctx.get("error", error.get("msg", "invalid value")))
    return "invalid_value", str(error.get("msg", "invalid value")).lower()


def validation_error(errors: Sequence[Mapping[str, Any]], prefix: str = "") -> ApiError:
    """A 422 naming the first invalid field (dotted path, e.g. `address.city`)."""
    first = errors[0]
    path = ".".join(str(part) for part in first.get("loc", ()))
    field = f"{prefix}{path}" if path else (prefix.rstrip(".") or None)
    code, message = _code_and_message(first)
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    text = f"{field}: {message}{more}" if field else f"{message}{more}"
    return ApiError(422, code, text, field)


def request_validation_error(errors: Sequence[Mapping[str, Any]]) -> ApiError:
    """Map FastAPI's request validation to 400 (malformed request) or 422 (invalid field)."""
    for error in errors:
        if error.get("type") == "json_invalid":
            return ApiError(400, "malformed_json", "request body is not valid JSON")
    first = errors[0]
    loc = tuple(first.get("loc", ()))
    where = str(loc[0]) if loc else "body"
    if where == "body" and len(loc) <= 1:
        if first.get("type") == "missing":
            return ApiError(400, "malformed_body", "a JSON object body is required")
        return ApiError(400, "malformed_body", "request body must be a JSON object")
    if where != "body":
        name = str(loc[1]) if len(loc) > 1 else where
        _, message = _code_and_message(first)
        return ApiError(400, "invalid_parameter", f"{where} parameter {name}: {message}", name)
    return validation_error([{**e, "loc": tuple(e.get("loc", ()))[1:]} for e in errors])


def _allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method the OpenAPI document offers on `path`."""
    methods: set[str] = set()
    for template, operations in app.openapi()["paths"].items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods.update(method.upper() for method in operations)
    return sorted(methods)


_HTTP_CODES = {400: "malformed_body", 404: "not_found", 405: "method_not_allowed"}


def install_error_handlers(app: FastAPI) -> None:
    """Render every error in the API's shape."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return request_validation_error(exc.errors()).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette lists only the first route matching the path; list them all.
            headers["Allow"] = ", ".join(_allowed_methods(app, request.url.path))
        return ApiError(exc.status_code, code, str(exc.detail), None, headers).response()

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return ApiError(500, "internal_error", "unexpected server error").response()
