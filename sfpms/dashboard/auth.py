"""Optional bearer token for every route but /healthz, and headers that keep the page private.

With `SFPMS_DASHBOARD_TOKEN` set, a request needs `Authorization: Bearer <token>` or
`?token=<token>` (for a browser's first visit; the page then sends the header itself).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from fastapi.responses import JSONResponse

OPEN_PATHS = frozenset({"/healthz"})
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a ?token= must not leak through Referer
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"
    ),
}

Handler = Callable[[Request], Awaitable[Response]]


def presented_token(request: Request) -> str | None:
    """The token a request carries, from the Authorization header or the query string."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query_params.get("token")


def token_middleware(expected: str | None) -> Callable[[Request, Handler], Awaitable[Response]]:
    """An HTTP middleware enforcing `expected` (None: no token needed) and adding headers."""
    expected_bytes = expected.encode() if expected else None

    async def middleware(request: Request, call_next: Handler) -> Response:
        if expected_bytes is not None and request.url.path not in OPEN_PATHS:
            given = presented_token(request)
            if given is None or not hmac.compare_digest(given.encode(), expected_bytes):
                return JSONResponse(
                    {"detail": "a bearer token is required: send Authorization: Bearer <token>"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer", **SECURITY_HEADERS},
                )
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    return middleware
