"""`create_app`: the Salesforce REST API emulator as a FastAPI application."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from emulators.common.admin import admin_router
from emulators.common.faults import (
    ASGIApp,
    FaultInjector,
    FaultMiddleware,
    Message,
    Receive,
    Scope,
    Send,
)
from emulators.common.stats import RequestStats, StatsMiddleware
from emulators.salesforce import (
    admin,
    api_bulk,
    api_composite,
    api_meta,
    api_query,
    api_records,
    api_replication,
    api_upsert,
    oauth,
)
from emulators.salesforce.accounts import Accounts
from emulators.salesforce.bulk.jobs import QueryJobs
from emulators.salesforce.catalog import Catalog
from emulators.salesforce.config import SalesforceEmulatorConfig
from emulators.salesforce.context import Emulator
from emulators.salesforce.cursors import QueryCursors
from emulators.salesforce.errors import ApiError, fault_body
from emulators.salesforce.jwt_bearer import load_certificate
from emulators.salesforce.limits import ApiLimits, bulk_query_jobs_exceeded
from emulators.salesforce.pubsub import admin as pubsub_admin
from emulators.salesforce.pubsub.server import build_pubsub
from emulators.salesforce.seed import ensure_identities, seed_demo
from emulators.salesforce.store import Store

log = logging.getLogger(__name__)

DATA_PREFIX = "/services/data/"


class LimitHeaderMiddleware:
    """Adds `Sforce-Limit-Info: api-usage=N/LIMIT` to every REST API response."""

    def __init__(self, app: ASGIApp, limits: ApiLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(DATA_PREFIX):
            await self.app(scope, receive, send)
            return

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"sforce-limit-info", self.limits.header().encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_header)


def build_emulator(config: SalesforceEmulatorConfig) -> Emulator:
    """The emulator's parts, with the org, users and (optionally) demo data in place."""
    store = Store(config.db_path, Catalog.with_custom_fields(config.custom_fields))
    accounts = Accounts(store, config.token_ttl_s)
    org_id, admin_id, alice_id = ensure_identities(store, accounts, config)
    if config.seed:
        seed_demo(store, alice_id, admin_id, config.seed_tasks)
    stats = RequestStats()
    # After the seed: records that exist before Change Data Capture is on publish nothing.
    pubsub = build_pubsub(config, store, accounts, stats, org_id)
    return Emulator(
        config=config,
        store=store,
        accounts=accounts,
        limits=ApiLimits(config.api_daily_limit, config.api_limit_window_s),
        cursors=QueryCursors(),
        injector=FaultInjector(),
        stats=stats,
        org_id=org_id,
        admin_user_id=admin_id,
        bulk=QueryJobs(api_bulk.query_runner(store)),
        bulk_limits=ApiLimits(
            config.bulk_daily_jobs, config.api_limit_window_s, refusal=bulk_query_jobs_exceeded
        ),
        jwt_key=load_certificate(config.jwt_certificate) if config.jwt_certificate else None,
        pubsub=pubsub,
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            body = ApiError.one(404, "NOT_FOUND", "The requested resource does not exist")
        elif exc.status_code == 405:
            body = ApiError.one(
                405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed"
            )
        else:
            body = ApiError.one(exc.status_code, "UNKNOWN_EXCEPTION", str(exc.detail))
        return JSONResponse(body.body(), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        body = ApiError.one(400, "INVALID_INPUT", f"Invalid request: {exc.errors()[:3]}")
        return JSONResponse(body.body(), status_code=400)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        error_id = uuid.uuid4().hex[:10]
        log.exception("emulator error %s on %s %s", error_id, request.method, request.url.path)
        message = (
            "An unexpected error occurred. Please include this ErrorId if you contact "
            f"support: {error_id}"
        )
        return JSONResponse(ApiError.one(500, "UNKNOWN_EXCEPTION", message).body(), status_code=500)


def create_app(config: SalesforceEmulatorConfig | None = None) -> FastAPI:
    """The Salesforce REST API (v60.0 subset) emulator; see docs/salesforce-emulator.md."""
    config = config or SalesforceEmulatorConfig()
    state = build_emulator(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if state.pubsub is not None:
            state.pubsub.start()
        yield
        if state.pubsub is not None:
            state.pubsub.stop()
        with state.store.lock:
            state.store.db.close()

    app = FastAPI(
        title="Salesforce REST API emulator",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.emulator = state
    _install_error_handlers(app)

    app.include_router(oauth.router)
    app.include_router(api_meta.versions_router)
    # Specific paths before the generic /sobjects/{sobject}/{id} ones. Each router carries
    # the full /services/data/{version} prefix itself, so request statistics name routes by
    # their full template.
    for module in (
        api_meta,
        api_replication,
        api_query,
        api_bulk,
        api_upsert,
        api_composite,
        api_records,
    ):
        app.include_router(module.router)
    app.include_router(admin_router(state.injector, state.stats))
    app.include_router(admin.router)
    app.include_router(pubsub_admin.router)

    # Added innermost first: Stats(Fault(LimitHeader(app))).
    app.add_middleware(LimitHeaderMiddleware, limits=state.limits)
    app.add_middleware(FaultMiddleware, injector=state.injector, error_body=fault_body)
    app.add_middleware(StatsMiddleware, stats=state.stats)
    return app
