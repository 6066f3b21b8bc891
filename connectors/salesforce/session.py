"""The authenticated HTTP session under the Salesforce client: login, retries, limits.

- Logs in with the flow `salesforce_auth` names: the JWT bearer grant (an RS256 assertion
  signed with the configured private key, valid under Salesforce's 3 minutes),
  client_credentials, or the password grant; unset, password when a username and
  password are configured, else client_credentials. Caches the token; on 401
  INVALID_SESSION_ID logs in again once and repeats the request.
- Retries 429, 5xx, timeouts and dropped connections with the product's one retry policy
  (foundation/retry.py, configured in `connectors.salesforce.retry`).
- Sends `Sforce-Call-Options: client=<name>` on every request, so Salesforce records the
  sync's writes under its name.
- Tracks `Sforce-Limit-Info` in `api_usage` and warns when more than 80 % is used.
- Passes every API call through the process's `ApiBudget` (budget.py): paced near the
  reserve, refused with `ApiBudgetPaused` at it; REQUEST_LIMIT_EXCEEDED pauses it too.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt

from connectors.salesforce.budget import ApiBudget, budget_for
from connectors.salesforce.errors import (
    SalesforceRetriableError,
    api_error,
    first_code,
    login_error,
)
from connectors.salesforce.retry import SALESFORCE_RETRY, RetryPolicy, may_resend, parse_retry_after
from connectors.salesforce.types import ApiUsage
from foundation import metrics
from foundation.errors import ConfigError
from foundation.settings import Settings

log = logging.getLogger("connectors.salesforce")

_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
USAGE_WARNING = 0.8
LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"
_WARN_EVERY_S = 300.0
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: Seconds a JWT bearer assertion is valid; Salesforce wants `exp` within 3 minutes.
ASSERTION_LIFETIME_S = 170


def auth_flow(settings: Settings) -> str:
    """The OAuth flow to log in with (see `Settings.salesforce_auth`)."""
    if settings.salesforce_auth is not None:
        return settings.salesforce_auth
    has_password = settings.salesforce_username and settings.salesforce_password is not None
    return "password" if has_password else "client_credentials"


def jwt_audience(settings: Settings) -> str:
    """`aud` of the assertion: configured, or Salesforce's login URL for the org's host."""
    if settings.salesforce_jwt_audience:
        return settings.salesforce_jwt_audience
    base = settings.salesforce_base_url().rstrip("/")
    host = (urlsplit(base).hostname or "").lower()
    if host == "test.salesforce.com" or host.endswith(".sandbox.my.salesforce.com"):
        return "https://test.salesforce.com"
    if host.endswith((".salesforce.com", ".force.com")):
        return "https://login.salesforce.com"
    return base  # the emulator accepts its own URL as the audience


def _jwt_key(settings: Settings) -> str:
    if settings.salesforce_jwt_key is not None:
        return settings.salesforce_jwt_key.get_secret_value()
    path = settings.salesforce_jwt_key_file
    if path is None:
        raise ConfigError(
            "SFPMS_SALESFORCE_AUTH=jwt needs the private key: set SFPMS_SALESFORCE_JWT_KEY_FILE "
            "(a PEM file) or SFPMS_SALESFORCE_JWT_KEY"
        )
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read SFPMS_SALESFORCE_JWT_KEY_FILE {path}: {type(exc).__name__}"
        ) from None


def jwt_assertion(settings: Settings, now: float) -> str:
    """A signed JWT bearer assertion for the integration user (RS256)."""
    username = settings.salesforce_username
    if not username:
        raise ConfigError("SFPMS_SALESFORCE_AUTH=jwt needs SFPMS_SALESFORCE_USERNAME (sub)")
    claims = {
        "iss": settings.salesforce_client_id,
        "sub": username,
        "aud": jwt_audience(settings),
        "exp": int(now) + ASSERTION_LIFETIME_S,
    }
    try:
        return jwt.encode(claims, _jwt_key(settings), algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError):
        # Never echo the key: say which setting holds something unusable.
        raise ConfigError(
            "the Salesforce JWT key (SFPMS_SALESFORCE_JWT_KEY_FILE / _JWT_KEY) is not a PEM "
            "RSA private key"
        ) from None


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


class SalesforceSession:
    """One pooled HTTP/1.1 connection set and one OAuth session; safe for concurrent tasks."""

    def __init__(
        self,
        settings: Settings,
        *,
        client_name: str,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        retry_ambiguous_posts: bool = False,
        timeout: float = 30.0,
        rng: random.Random | None = None,
        budget: ApiBudget | None = None,
    ) -> None:
        self.settings = settings
        self.budget = budget or budget_for(settings)
        self.client_name = client_name
        self.retry = retry or SALESFORCE_RETRY
        self.retry_ambiguous_posts = retry_ambiguous_posts
        self.api_usage: ApiUsage | None = None
        self.instance_url: str | None = None
        self.identity_url: str | None = None
        self._transport = transport
        self._timeout = timeout
        self._rng = rng or random.Random()
        self._http: httpx.AsyncClient | None = None
        self._token: str | None = None
        self._login_lock = asyncio.Lock()
        self._last_warning = 0.0

    # -- plumbing ----------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        # Built on first use: the emulator writes its certificate when it starts, which
        # may be after this process started.
        if self._http is None:
            self._http = httpx.AsyncClient(
                transport=self._transport,
                verify=self._verify(),
                timeout=httpx.Timeout(self._timeout, connect=min(self._timeout, 10.0)),
                limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
                headers={
                    "Accept": "application/json",
                    "Sforce-Call-Options": f"client={self.client_name}",
                },
                http2=False,
            )
        return self._http

    def _verify(self) -> ssl.SSLContext | bool:
        verify = self.settings.salesforce_verify()
        if isinstance(verify, bool) or self._transport is not None:
            return verify if isinstance(verify, bool) else True
        try:
            return ssl.create_default_context(cafile=verify)
        except (FileNotFoundError, ssl.SSLError) as exc:
            raise ConfigError(
                f"cannot read the Salesforce CA bundle {verify}: {exc}; start the emulator "
                "(it writes its certificate there) or set SFPMS_SALESFORCE_CA_BUNDLE"
            ) from exc

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _note_usage(self, response: httpx.Response) -> None:
        match = _USAGE.search(response.headers.get("sforce-limit-info", ""))
        if not match:
            return
        self.api_usage = ApiUsage(int(match.group(1)), int(match.group(2)))
        self.budget.observe(self.api_usage)
        metrics.API_LIMIT_USED.labels("salesforce").set(self.api_usage.used)
        metrics.API_LIMIT_MAX.labels("salesforce").set(self.api_usage.limit)
        if self.api_usage.fraction > USAGE_WARNING:
            now = time.monotonic()
            if now - self._last_warning >= _WARN_EVERY_S or not self._last_warning:
                self._last_warning = now
                log.warning(
                    "Salesforce API usage at %d/%d (%.0f%% of the daily limit)",
                    self.api_usage.used,
                    self.api_usage.limit,
                    self.api_usage.fraction * 100,
                )

    # -- login ---------------------------------------------------------------------------

    async def _login(self) -> None:
        settings = self.settings
        username = settings.salesforce_username
        password = settings.salesforce_password
        grant = auth_flow(settings)
        form: dict[str, str]
        if grant == "jwt":
            form = {"grant_type": JWT_GRANT, "assertion": jwt_assertion(settings, time.time())}
        else:
            form = {
                "grant_type": grant,
                "client_id": settings.salesforce_client_id,
                "client_secret": settings.salesforce_client_secret.get_secret_value(),
            }
        if grant == "password":
            if not username or password is None:
                raise ConfigError(
                    "SFPMS_SALESFORCE_AUTH=password needs SFPMS_SALESFORCE_USERNAME and "
                    "SFPMS_SALESFORCE_PASSWORD"
                )
            form["username"] = username
            form["password"] = password.get_secret_value()
        url = settings.salesforce_base_url().rstrip("/") + "/services/oauth2/token"
        response = await self._send("POST", url, action="login", data=form, authorized=False)
        if response.status_code != 200:
            raise login_error(response.status_code, _json(response), grant=grant, username=username)
        body = response.json()
        self._token = str(body["access_token"])
        self.instance_url = str(body["instance_url"]).rstrip("/")
        self.identity_url = str(body.get("id") or "") or None
        log.info("logged in to Salesforce at %s (%s grant)", self.instance_url, grant)

    async def ensure_login(self) -> None:
        if self._token is None:
            async with self._login_lock:
                if self._token is None:
                    await self._login()

    async def _relogin(self, stale: str | None) -> None:
        async with self._login_lock:
            if self._token == stale:  # nobody refreshed it meanwhile
                self._token = None
                await self._login()

    # -- requests ------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        action: str,
        record: str | None = None,
        params: dict[str, str] | None = None,
        json: Any = None,
        accept: tuple[int, ...] = (200, 201, 204),
        headers: dict[str, str] | None = None,
        budgeted: bool = True,
    ) -> httpx.Response:
        """Send an API request; responses with a status in `accept` are returned, others
        raise after retries (RetriableError) or at once (FatalError). The API budget
        admits it first (`ApiBudgetPaused` when the sync's share is spent); `budgeted=False`
        is for the budget's own `/limits` probe."""
        await self.ensure_login()
        if budgeted:
            await self.budget.admit(self.probe_limits, action, record)
        relogged = False
        while True:
            token = self._token
            url = path if path.startswith("http") else f"{self.instance_url}{path}"
            response = await self._send(
                method,
                url,
                action=action,
                record=record,
                params=params,
                json=json,
                token=token,
                extra_headers=headers,
            )
            expired = response.status_code == 401 and (
                first_code(_json(response)) == "INVALID_SESSION_ID"
            )
            if expired and not relogged:
                relogged = True
                log.info("Salesforce session expired; logging in again")
                await self._relogin(token)
                continue
            if response.status_code in accept:
                return response
            if response.status_code == 401:
                raise SalesforceRetriableError(
                    f"Salesforce {action} failed: the session was refused right after a fresh "
                    "login (INVALID_SESSION_ID); check the integration user's API access",
                    status=401,
                    error_code="INVALID_SESSION_ID",
                    record=record,
                )
            if response.status_code == 403 and first_code(_json(response)) == LIMIT_EXCEEDED:
                self.budget.refused()
                raise self.budget.error(action, record)
            raise api_error(
                response.status_code,
                _json(response),
                action=action,
                record=record,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )

    async def probe_limits(self) -> None:
        """Read `/limits` outside the budget: its `Sforce-Limit-Info` (even on a 403 past the
        limit) tells the budget whether the rolling window has freed calls."""
        path = f"/services/data/v{self.settings.salesforce_api_version}/limits"
        await self.request(
            "GET", path, action="limits (API budget probe)", accept=(200, 403), budgeted=False
        )

    async def _send(
        self,
        method: str,
        url: str,
        *,
        action: str,
        record: str | None = None,
        token: str | None = None,
        authorized: bool = True,
        extra_headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One logical request with transport-level and 429/5xx retries."""
        client = self._client()
        headers = {"Authorization": f"Bearer {token}"} if authorized and token else {}
        headers.update(extra_headers or {})
        tries = 0

        def transient(exc: BaseException) -> bool:
            if isinstance(exc, _Busy):
                return True
            return isinstance(exc, httpx.TransportError) and may_resend(
                method, exc, ambiguous_posts=self.retry_ambiguous_posts
            )

        def on_retry(attempt: int, delay: float, exc: BaseException) -> None:
            why = f"HTTP {exc.status}" if isinstance(exc, _Busy) else type(exc).__name__
            log.info("Salesforce %s: %s, retry %d in %.2fs", action, why, attempt, delay)

        try:
            async for attempt in self.retry.retrying(
                retry_on=transient, on_retry=on_retry, rng=self._rng
            ):
                with attempt:
                    tries += 1
                    response = await client.request(method, url, headers=headers, **kwargs)
                    if authorized:
                        self._note_usage(response)
                    if response.status_code != 429 and response.status_code < 500:
                        return response
                    raise _Busy(response)
        except _Busy as busy:
            if authorized:
                return busy.response  # the caller turns it into a RetriableError
            raise api_error(
                busy.status, _json(busy.response), action=action, record=record
            ) from None
        except httpx.TransportError as exc:
            raise SalesforceRetriableError(
                f"Salesforce {action} failed after {tries} attempt(s): "
                f"{type(exc).__name__} (the request may or may not have been applied)",
                record=record,
            ) from exc
        raise AssertionError("unreachable: the retry loop returns or raises")


class _Busy(Exception):
    """A 429/5xx answer inside the retry loop; carries the Retry-After for the policy."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.status = response.status_code
        self.retry_after = parse_retry_after(response.headers.get("retry-after"))
        super().__init__(f"HTTP {self.status}")
