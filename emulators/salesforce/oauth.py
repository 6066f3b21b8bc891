"""OAuth 2.0 token endpoint (password, client_credentials and JWT bearer grants) and
identity URLs.

Errors follow Salesforce: a wrong username or password is `invalid_grant` /
`authentication failure`; an unknown client id is `invalid_client_id`; a wrong client
secret is `invalid_client`; all with HTTP 400. The JWT bearer grant's own refusals are
listed in `jwt_bearer`. Client credentials may come in the form or, as RFC 6749 allows, in
an `Authorization: Basic` header (simple-salesforce sends them that way).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from emulators.salesforce.config import CLIENT_ID, CLIENT_SECRET
from emulators.salesforce.context import Emulator, emulator, instance_url
from emulators.salesforce.errors import session_invalid
from emulators.salesforce.jwt_bearer import (
    GRANT_TYPE as JWT_GRANT,
)
from emulators.salesforce.jwt_bearer import (
    LOGIN_AUDIENCES,
    AssertionRefused,
    verify_assertion,
)

router = APIRouter()


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _session_user(request: Request) -> tuple[Emulator, str]:
    state = emulator(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    session = (
        state.accounts.session(token.strip()) if scheme.lower() in ("bearer", "oauth") else None
    )
    if session is None:
        raise session_invalid()
    return state, session.user_id


@router.post("/services/oauth2/token")
async def token(request: Request) -> JSONResponse:
    # Form-encoded, parsed by hand: no multipart dependency for one flat form.
    fields = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    fields.update({k: v for k, v in request.query_params.items() if k not in fields})
    fields = {**_basic_credentials(request), **fields}
    grant = fields.get("grant_type", "")
    if grant == JWT_GRANT:
        return _jwt_grant(request, fields.get("assertion", ""))
    if grant not in ("password", "client_credentials"):
        return _oauth_error("unsupported_grant_type", "grant type not supported")
    if fields.get("client_id") != CLIENT_ID:
        return _oauth_error("invalid_client_id", "client identifier invalid")
    if not hmac.compare_digest(fields.get("client_secret", ""), CLIENT_SECRET):
        return _oauth_error("invalid_client", "invalid client credentials")
    state = emulator(request)
    if grant == "password":
        user_id = state.accounts.authenticate(
            fields.get("username", ""), fields.get("password", "")
        )
        if user_id is None:
            return _oauth_error("invalid_grant", "authentication failure")
    else:
        # client_credentials runs as the connected app's "Run As" user: the integration user.
        user_id = state.admin_user_id
    return _token_response(request, user_id)


def _token_response(request: Request, user_id: str, *, scope: str | None = None) -> JSONResponse:
    state = emulator(request)
    session = state.accounts.issue(user_id, state.org_id)
    base = instance_url(request)
    identity = f"{base}/id/{state.org_id}/{user_id}"
    body: dict[str, str] = {"access_token": session.token}
    if scope is not None:
        body["scope"] = scope
    issued_at = str(session.issued_ms)
    signature = base64.b64encode(
        hmac.new(CLIENT_SECRET.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
    ).decode()
    body.update(
        {
            "instance_url": base,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": signature,
        }
    )
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def _basic_credentials(request: Request) -> dict[str, str]:
    """client_id/client_secret from `Authorization: Basic` (form fields take precedence)."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return {}
    try:
        client_id, sep, secret = base64.b64decode(encoded.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return {}
    return {"client_id": client_id, "client_secret": secret} if sep else {}


def jwt_audiences(request: Request) -> list[str]:
    """Accepted `aud` values: Salesforce's login URLs, and the emulator's own URLs."""
    own = {instance_url(request), str(request.base_url).rstrip("/")}
    return [*LOGIN_AUDIENCES, *sorted(own)]


def _jwt_grant(request: Request, assertion: str) -> JSONResponse:
    state = emulator(request)
    try:
        claims = verify_assertion(
            assertion,
            key=state.jwt_key,
            client_id=CLIENT_ID,
            audiences=jwt_audiences(request),
            now=time.time(),
        )
    except AssertionRefused as exc:
        return _oauth_error(exc.error, exc.description)
    user_id = state.accounts.user_id_for(claims.username)
    active = user_id is not None and state.accounts.is_active(user_id)
    if user_id is None or not active:
        # Unknown or inactive users cannot have approved (or been pre-authorized for) the app.
        return _oauth_error("invalid_grant", "user hasn't approved this consumer")
    return _token_response(request, user_id, scope="api")


def _identity(state: Emulator, base: str, user_id: str) -> dict[str, Any]:
    found = state.store.lookup(user_id)
    user = found[1] if found else {}
    return {
        "id": f"{base}/id/{state.org_id}/{user_id}",
        "user_id": user_id,
        "organization_id": state.org_id,
        "username": user.get("Username"),
        "display_name": user.get("Name"),
        "email": user.get("Email"),
        "first_name": user.get("FirstName"),
        "last_name": user.get("LastName"),
        "active": bool(user.get("IsActive")),
        "user_type": "STANDARD",
        "urls": {
            "rest": f"{base}/services/data/v{{version}}/",
            "sobjects": f"{base}/services/data/v{{version}}/sobjects/",
            "query": f"{base}/services/data/v{{version}}/query/",
        },
    }


@router.get("/id/{org_id}/{user_id}")
def identity(request: Request, org_id: str, user_id: str) -> dict[str, Any]:
    """The identity service; it does not count against the API limit."""
    state, caller_id = _session_user(request)
    if org_id[:15] != state.org_id[:15] or user_id[:15] != caller_id[:15]:
        raise session_invalid()
    return _identity(state, instance_url(request), caller_id)


@router.get("/services/oauth2/userinfo")
def userinfo(request: Request) -> dict[str, Any]:
    state, caller_id = _session_user(request)
    info = _identity(state, instance_url(request), caller_id)
    return {
        "sub": info["id"],
        "user_id": caller_id,
        "organization_id": state.org_id,
        "preferred_username": info["username"],
        "name": info["display_name"],
        "email": info["email"],
        "active": info["active"],
    }
