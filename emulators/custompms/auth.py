"""Bearer-token authentication: every API call names its client, recorded as the actor."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fastapi import Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from emulators.custompms.errors import ApiError
from emulators.custompms.store import Store

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearerToken",
    description="`Authorization: Bearer <token>`; the token's client name becomes the actor.",
)

_CREDENTIALS = Security(bearer)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="custompms"'}


def authenticator(tokens: Mapping[str, str], store: Store) -> Callable[..., str]:
    """A FastAPI dependency returning the client name of the request's token, else 401.

    Tokens added through the admin route (kept in the database) take precedence over the
    configured ones.
    """

    def authenticate(
        credentials: HTTPAuthorizationCredentials | None = _CREDENTIALS,
    ) -> str:
        if credentials is None:
            raise ApiError(
                401,
                "unauthorized",
                "send Authorization: Bearer <token> (SFPMS_CUSTOMPMS_TOKEN for the sync)",
                "Authorization",
                _CHALLENGE,
            )
        token = credentials.credentials
        client = store.token_client(token) or tokens.get(token)
        if client is None:
            raise ApiError(
                401, "unauthorized", "the bearer token is not valid", "Authorization", _CHALLENGE
            )
        return client

    return authenticate
