"""The running emulator's parts, and the request helpers every route uses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from fastapi import Request

from emulators.common.faults import FaultInjector
from emulators.common.stats import RequestStats
from emulators.salesforce.accounts import Accounts
from emulators.salesforce.bulk.jobs import QueryJobs
from emulators.salesforce.config import SUPPORTED_VERSIONS, SalesforceEmulatorConfig
from emulators.salesforce.cursors import QueryCursors
from emulators.salesforce.errors import ApiError, not_found, session_invalid
from emulators.salesforce.limits import ApiLimits
from emulators.salesforce.schema import ObjectDef
from emulators.salesforce.store import Caller, Store

if TYPE_CHECKING:
    from emulators.salesforce.pubsub.server import PubSub

#: Path prefix of the versioned REST API routes.
DATA_ROUTE = "/services/data/{version}"


@dataclass(slots=True)
class Emulator:
    config: SalesforceEmulatorConfig
    store: Store
    accounts: Accounts
    limits: ApiLimits
    cursors: QueryCursors
    injector: FaultInjector
    stats: RequestStats
    org_id: str
    admin_user_id: str
    #: Bulk API 2.0 query jobs, and the DailyBulkV2QueryJobs allocation.
    bulk: QueryJobs
    bulk_limits: ApiLimits
    #: The connected app's certificate key for the JWT bearer flow (None: not configured).
    jwt_key: RSAPublicKey | None = None
    #: The Pub/Sub API's event bus and server; None when `pubsub_port` is None.
    pubsub: PubSub | None = None


def emulator(request: Request) -> Emulator:
    state: Emulator = request.app.state.emulator
    return state


def check_version(version: str) -> str:
    """`v60.0` -> `60.0`; an unknown version is a 404, as on Salesforce."""
    if not version.startswith("v") or version[1:] not in SUPPORTED_VERSIONS:
        raise not_found()
    return version[1:]


def data_path(version: str) -> str:
    return f"/services/data/v{version}"


def parse_call_options(header: str | None) -> str | None:
    """The `client=` value of a `Sforce-Call-Options` header."""
    if not header:
        return None
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "client" and value.strip():
            return value.strip()
    return None


def authenticate(request: Request) -> Caller:
    """The caller of an API request; counts the request against the daily limit."""
    state = emulator(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() not in ("bearer", "oauth") or not token.strip():
        raise session_invalid()
    session = state.accounts.session(token.strip())
    if session is None:
        raise session_invalid()
    state.limits.consume()
    version = str(request.path_params.get("version", ""))
    return Caller(
        session.user_id,
        parse_call_options(request.headers.get("sforce-call-options")),
        api_version=version[1:] if version.startswith("v") else None,
    )


def sobject_or_404(request: Request, name: str) -> ObjectDef:
    """The instance's definition of sObject `name` (custom fields included), else 404."""
    obj = emulator(request).store.catalog.find(name)
    if obj is None:
        raise not_found()
    return obj


async def read_json(request: Request) -> Any:
    """The request body as JSON, or Salesforce's JSON_PARSER_ERROR."""
    raw = await request.body()
    if not raw.strip():
        raise ApiError.one(
            400, "JSON_PARSER_ERROR", "No content to map due to end-of-input at [line:1, column:0]"
        )
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = (
            f" at [line:{exc.lineno}, column:{exc.colno}]"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        raise ApiError.one(
            400, "JSON_PARSER_ERROR", f"Unexpected character in request body{where}"
        ) from exc


def instance_url(request: Request) -> str:
    """The instance URL the token endpoint hands out."""
    configured = emulator(request).config.base_url
    if configured:
        return configured.rstrip("/")
    return str(request.base_url).rstrip("/")


def record_url(version: str, sobject: str, record_id: str) -> str:
    return f"{data_path(version)}/sobjects/{sobject}/{record_id}"
