"""Pub/Sub API authentication: the `accesstoken`, `instanceurl` and `tenantid` call metadata.

The access token must be a live session of the emulator's OAuth endpoint (the same tokens
the REST API accepts), `tenantid` the org id (15 or 18 characters) and `instanceurl` an
http(s) URL. Anything missing or wrong is UNAUTHENTICATED with
`sfdc.platform.eventbus.grpc.service.auth.error`, whatever the cause, so the error says
nothing about which part was wrong (and never echoes the token).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from emulators.salesforce.accounts import Accounts
from emulators.salesforce.pubsub.errors import auth_error


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    org_id: str


def metadata_map(metadata: Iterable[Any] | None) -> dict[str, str]:
    """Call metadata as {lower-case key: text value} (binary `-bin` values are skipped)."""
    out: dict[str, str] = {}
    for item in metadata or ():
        key, value = item[0], item[1]
        if isinstance(value, str):
            out[str(key).lower()] = value
    return out


def authenticate(metadata: Iterable[Any] | None, accounts: Accounts, org_id: str) -> Principal:
    """The caller, or PubSubError(UNAUTHENTICATED)."""
    values = metadata_map(metadata)
    token = values.get("accesstoken", "").strip()
    tenant = values.get("tenantid", "").strip()
    instance = urlparse(values.get("instanceurl", "").strip())
    if not token or not tenant or instance.scheme not in ("http", "https") or not instance.netloc:
        raise auth_error()
    if tenant[:15] != org_id[:15] or len(tenant) not in (15, 18):
        raise auth_error()
    session = accounts.session(token)
    if session is None:
        raise auth_error()
    return Principal(session.user_id, org_id)
