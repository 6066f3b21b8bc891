"""Who may read the dashboard, and headers that keep its answers private.

- **Host check** (every route): the Host header must name localhost, a loopback address,
  the bind address or a name in `SFPMS_DASHBOARD_ALLOWED_HOSTS`. A page on another site that
  re-points its own name at 127.0.0.1 (DNS rebinding) sends its own name as Host, and is
  answered 400.
- **Token** (`SFPMS_DASHBOARD_TOKEN`; blank counts as unset), on every route but the probes
  (`/healthz`, `/readyz`: compose, Kubernetes and `sfpms status` carry no token, and they
  reveal no data) and the login form. Scripts and Prometheus send
  `Authorization: Bearer <token>`. A browser posts the token once to the login form
  (`POST /login`), which sets an HttpOnly, SameSite=Strict session cookie: an HMAC of an
  expiry time keyed by the token, so the cookie is not the token and every session ends
  when the token changes. A token in the URL (`?token=`) is never accepted: URLs end up in
  history, logs and Referer headers. A browser opening a page (`/`, `/links/...`) without
  a session gets the login form.
- **Binding**: off the loopback interface the dashboard refuses to start without a token of
  at least `MIN_TOKEN_LENGTH` characters (`check_bind`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from importlib.resources import files
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from foundation.errors import ConfigError
from foundation.settings import Settings
from sfpms.registry.auth import is_loopback

#: Probes carry no token (they reveal no data); the login form must be reachable without one.
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/login", "/logout"})
SESSION_COOKIE = "sfpms_dashboard_session"
SESSION_S = 12 * 3600
MIN_TOKEN_LENGTH = 16
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
MAX_FORM_BYTES = 4096
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "connect-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}

Handler = Callable[[Request], Awaitable[Response]]


def configured_token(settings: Settings) -> str | None:
    """The dashboard token, or None when unset or blank (compose's `${VAR:-}` gives "")."""
    token = settings.dashboard_token
    if token is None or not token.get_secret_value().strip():
        return None
    return token.get_secret_value()


def check_bind(host: str, settings: Settings) -> None:
    """Refuse to listen off the loopback interface without a long enough token."""
    if is_loopback(host):
        return
    token = configured_token(settings)
    if token is None:
        raise ConfigError(
            f"the dashboard would listen on {host}, off the loopback interface, without a "
            "token (an empty SFPMS_DASHBOARD_TOKEN counts as unset): set SFPMS_DASHBOARD_TOKEN "
            "to a long random value, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`, or listen on "
            "127.0.0.1"
        )
    if len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"SFPMS_DASHBOARD_TOKEN must be at least {MIN_TOKEN_LENGTH} characters long when "
            f"the dashboard listens on {host}, off the loopback interface"
        )


def allowed_hosts(settings: Settings, bind_host: str) -> frozenset[str]:
    """Host names (lower case, no port) the dashboard answers to."""
    names = set(LOOPBACK_NAMES)
    if bind_host.strip("[]") not in WILDCARDS:
        names.add(bind_host.strip("[]").lower())
    names.update(h.strip().lower().rstrip(".") for h in settings.dashboard_allowed_hosts)
    return frozenset(names)


def host_name(header: str) -> str:
    """The name part of a Host header: `[::1]:80` -> `::1`, `Example.com.:80` -> `example.com`."""
    text = header.strip().lower()
    if text.startswith("["):
        return text[1 : text.find("]")] if "]" in text else text
    name, _, port = text.rpartition(":")
    if name and port.isdigit():
        text = name
    return text.rstrip(".")


class Sessions:
    """Signed, expiring session values for the cookie; keyed by the token."""

    def __init__(self, token: str) -> None:
        self._key = token.encode()

    def _mac(self, expires: int) -> str:
        message = f"sfpms-dashboard-session\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def issue(self, now: float | None = None) -> str:
        expires = int(now if now is not None else time.time()) + SESSION_S
        return f"{expires}.{self._mac(expires)}"

    def valid(self, value: str | None, now: float | None = None) -> bool:
        expires_text, _, mac = (value or "").partition(".")
        if not expires_text.isdigit() or not mac:
            return False
        expires = int(expires_text)
        current = now if now is not None else time.time()
        if not current < expires <= current + SESSION_S:
            return False
        return hmac.compare_digest(mac, self._mac(expires))


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def install_access_control(app: FastAPI, settings: Settings, bind_host: str) -> None:
    """Add the host check, the token check, the login form and the private headers."""
    token = configured_token(settings)
    hosts = allowed_hosts(settings, bind_host)
    sessions = Sessions(token) if token is not None else None
    expected = token.encode() if token is not None else b""

    def authenticated(request: Request) -> bool:
        if sessions is None:
            return True
        given = _bearer(request)
        if given is not None and hmac.compare_digest(given.encode(), expected):
            return True
        return sessions.valid(request.cookies.get(SESSION_COOKIE))

    async def access(request: Request, call_next: Handler) -> Response:
        host = host_name(request.headers.get("host", ""))
        if host not in hosts:
            response: Response = JSONResponse(
                {
                    "detail": f"this dashboard does not answer to the host name {host!r}; "
                    "add it to SFPMS_DASHBOARD_ALLOWED_HOSTS if it is yours"
                },
                status_code=400,
            )
        elif request.url.path in OPEN_PATHS or authenticated(request):
            response = await call_next(request)
        elif request.method == "GET" and _is_page(request.url.path):
            response = HTMLResponse(
                login_page(), status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        else:
            response = JSONResponse(
                {
                    "detail": "a token is required: send Authorization: Bearer <token>, or "
                    "log in at /login (a token in the URL is not accepted)"
                },
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        response.headers.update(SECURITY_HEADERS)
        return response

    app.middleware("http")(access)
    app.include_router(_login_routes(sessions, expected, hosts))


def _is_page(path: str) -> bool:
    """The HTML pages (the overview, a link's page): a browser opening one unauthenticated
    gets the login form instead of a JSON error."""
    return path == "/" or path.startswith("/links/")


def _login_routes(sessions: Sessions | None, expected: bytes, hosts: frozenset[str]) -> APIRouter:
    router = APIRouter()

    @router.get("/login", response_class=HTMLResponse)
    def login_form() -> Response:
        if sessions is None:
            return RedirectResponse("/", status_code=303)
        return HTMLResponse(login_page())

    @router.post("/login")
    async def login(request: Request) -> Response:
        if _from_another_site(request, hosts):
            return JSONResponse({"detail": "a login from another site"}, status_code=403)
        if sessions is None:
            return RedirectResponse("/", status_code=303)
        body = (await request.body())[:MAX_FORM_BYTES].decode("utf-8", "replace")
        given = (parse_qs(body).get("token") or [""])[0].strip()
        if not given or not hmac.compare_digest(given.encode(), expected):
            return HTMLResponse(
                login_page(failed=True), status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            sessions.issue(),
            max_age=SESSION_S,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @router.post("/logout")
    def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response

    return router


def _from_another_site(request: Request, hosts: frozenset[str]) -> bool:
    """Whether the browser says the form was posted by another site.

    Under `Referrer-Policy: no-referrer` browsers send `Origin: null` even for the
    dashboard's own form, so "null" is no evidence; `Sec-Fetch-Site` is, where sent."""
    if request.headers.get("sec-fetch-site", "same-origin") == "cross-site":
        return True
    origin = request.headers.get("origin", "null")
    return origin != "null" and host_name(urlsplit(origin).netloc) not in hosts


def login_page(*, failed: bool = False) -> str:
    """The login form (no script: it posts the token, the answer sets the cookie)."""
    html = (files("sfpms.dashboard") / "static" / "login.html").read_text(encoding="utf-8")
    notice = '<p class="error">That token is not right.</p>' if failed else ""
    return html.replace("<!--NOTICE-->", notice)
