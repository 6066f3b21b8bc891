"""HTTP basic authentication of the embedded registry, the way Confluent Schema Registry does
it (`authentication.method=BASIC`).

Every registry route needs credentials, `/` included (Confluent's `authentication.skip.paths`
is empty by default); only sfpms's own probes `/healthz` and `/readyz` are skipped, the way
that setting would skip them (sfpms/registry/app.py). Without them, or with wrong ones,
the answer is Confluent's: 401 with `{"error_code": 401, "message": "Unauthorized"}` and a
`WWW-Authenticate: Basic realm=...` challenge. Clients pass the credentials as
confluent-kafka's `basic.auth.user.info` (`Settings.registry_client_config`).

One user, full access. Confluent's open registry has no read-only role either: its
`authentication.roles` only says which roles may log in at all; a read/write split takes
its commercial security plugin (ACLs or RBAC). The sync's processes register their
schemas, so they need write access anyway.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import SecretStr

from foundation.errors import ConfigError
from foundation.settings import Settings

REALM = "SchemaRegistry"
MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"
UNAUTHORIZED = {"error_code": 401, "message": "Unauthorized"}

Handler = Callable[[Request], Awaitable[Response]]
Middleware = Callable[[Request, Handler], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class BasicAuth:
    """The one login the registry accepts."""

    user: str
    password: SecretStr
    realm: str = REALM

    def accepts(self, header: str | None) -> bool:
        """Whether an `Authorization` header carries exactly these credentials."""
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, colon, password = decoded.partition(":")
        if not colon:
            return False
        # Both compared in constant time, and both always compared.
        user_ok = hmac.compare_digest(user.encode(), self.user.encode())
        password_ok = hmac.compare_digest(
            password.encode(), self.password.get_secret_value().encode()
        )
        return user_ok and password_ok


def basic_auth_middleware(
    auth: BasicAuth, *, open_paths: frozenset[str] = frozenset()
) -> Middleware:
    """An HTTP middleware answering 401 to every request without `auth`'s credentials,
    except to the exact paths in `open_paths` (Confluent's `authentication.skip.paths`)."""
    challenge = f'Basic realm="{auth.realm}", charset="UTF-8"'

    async def middleware(request: Request, call_next: Handler) -> Response:
        if request.url.path in open_paths:
            return await call_next(request)
        if not auth.accepts(request.headers.get("authorization")):
            return JSONResponse(
                UNAUTHORIZED,
                status_code=401,
                media_type=MEDIA_TYPE,
                headers={"WWW-Authenticate": challenge},
            )
        return await call_next(request)

    return middleware


class BindRefused(ConfigError):
    """The registry would listen off the loopback interface with credentials nobody chose."""


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost; everything else (0.0.0.0, names) counts as off it."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, *, configured: bool) -> None:
    """Refuse to listen off the loopback interface unless credentials were configured.

    Generated credentials live in the local data directory: fine for the processes of one
    machine, not for clients elsewhere, which must be given credentials someone chose.
    """
    if configured or is_loopback(host):
        return
    raise BindRefused(
        f"the registry would listen on {host}, off the loopback interface, with no "
        "credentials configured: set SFPMS_SCHEMA_REGISTRY_USER and "
        "SFPMS_SCHEMA_REGISTRY_PASSWORD (a long random value) and give the same to every "
        "client, or listen on 127.0.0.1"
    )


def server_auth(settings: Settings, host: str) -> BasicAuth:
    """The credentials `sfpms registry` accepts: the configured pair, else (loopback only)
    the generated local ones, made on first start."""
    user, password = settings.schema_registry_user, settings.schema_registry_password
    if bool(user) != (password is not None and bool(password.get_secret_value())):
        raise ConfigError(
            "set both SFPMS_SCHEMA_REGISTRY_USER and SFPMS_SCHEMA_REGISTRY_PASSWORD, or "
            "neither (the embedded stack then generates its own)"
        )
    check_bind(host, configured=bool(user))
    if user and password is not None:
        return BasicAuth(user, password)
    from foundation.local_credentials import ensure_local_credentials

    local_user, local_password = ensure_local_credentials(settings.data_dir)
    return BasicAuth(local_user, local_password)
