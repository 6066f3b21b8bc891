"""What the Pub/Sub API authenticates with: the OAuth session's token, instance URL and org id.

Every RPC carries them as metadata (`accesstoken`, `instanceurl`, `tenantid`). They come
from the product's existing OAuth session (`SalesforceSession`), so the REST client and the
Pub/Sub client share one login; on UNAUTHENTICATED the client asks for a fresh login once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from connectors.salesforce.session import SalesforceSession
from foundation.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Credentials:
    access_token: str
    instance_url: str
    org_id: str

    def __repr__(self) -> str:  # never print the token
        return f"Credentials(instance_url={self.instance_url!r}, org_id={self.org_id!r})"

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (
            ("accesstoken", self.access_token),
            ("instanceurl", self.instance_url),
            ("tenantid", self.org_id),
        )


class CredentialSource(Protocol):
    async def credentials(self) -> Credentials:
        """The current credentials (logging in first if needed)."""
        ...

    async def refresh(self, stale: Credentials) -> Credentials:
        """New credentials after `stale` was refused."""
        ...


def org_id_from_identity_url(url: str | None) -> str:
    """`https://host/id/<org id>/<user id>` -> the org id."""
    parts = (url or "").rstrip("/").split("/")
    if len(parts) >= 3 and parts[-3] == "id" and parts[-2].startswith("00D"):
        return parts[-2]
    raise ConfigError(
        f"cannot tell the Salesforce org id from the identity URL {url!r} of the login "
        "response; the Pub/Sub API needs it (tenantid)"
    )


class SessionCredentials:
    """Credentials of a `SalesforceSession` (the one login the REST client uses too)."""

    def __init__(self, session: SalesforceSession) -> None:
        self.session = session

    def _current(self) -> Credentials:
        # SalesforceSession keeps the token private; this adapter is the one reader, so a
        # public accessor there replaces exactly these two lines.
        token = self.session._token
        if token is None or self.session.instance_url is None:
            raise ConfigError("the Salesforce session has no token after login")
        return Credentials(
            token,
            self.session.instance_url,
            org_id_from_identity_url(self.session.identity_url),
        )

    async def credentials(self) -> Credentials:
        await self.session.ensure_login()
        return self._current()

    async def refresh(self, stale: Credentials) -> Credentials:
        await self.session._relogin(stale.access_token)
        return self._current()
