"""`create_app`: the Custompms emulator as an ASGI app (FastAPI), ready for uvicorn."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from emulators.common.admin import admin_router
from emulators.common.faults import ADMIN_PREFIX, FaultInjector, FaultMiddleware
from emulators.common.stats import RequestStats, StatsMiddleware
from emulators.custompms.auth import authenticator
from emulators.custompms.config import CustompmsEmulatorConfig
from emulators.custompms.envelopes import TokenGrant
from emulators.custompms.errors import fault_error_body, install_error_handlers
from emulators.custompms.routes import api_router
from emulators.custompms.seed import seed
from emulators.custompms.store import Store

DESCRIPTION = """\
The Custompms project-management API (customers, projects, tasks), as emulated for sfpms.

The contract, its limits and its decisions are described in docs/custompms-api.md.
Every error body is `{"error": {"code", "message", "field"}}`.
"""


def token_router(store: Store) -> APIRouter:
    """POST /__emulator__/tokens: add a token acting as a named client (e.g. a human)."""
    router = APIRouter(prefix=ADMIN_PREFIX, include_in_schema=False)

    @router.post("/tokens", status_code=201)
    def add_token(grant: TokenGrant) -> dict[str, Any]:
        store.add_token(grant.token, grant.client)
        return {"client": grant.client}

    return router


def create_app(config: CustompmsEmulatorConfig) -> FastAPI:
    """A new emulator instance; opens (and, with `config.seed`, fills) its store now."""
    store = Store(config.db_path, config.custom_fields)
    if config.seed and store.is_empty():
        seed(store, random.Random(config.seed_random))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(
        title="Custompms API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    install_error_handlers(app)
    app.include_router(api_router(store, authenticator(config.tokens, store)))
    injector, stats = FaultInjector(), RequestStats()
    app.include_router(admin_router(injector, stats))
    app.include_router(token_router(store))
    # Added last = outermost: stats count the faults injected inside them.
    app.add_middleware(FaultMiddleware, injector=injector, error_body=fault_error_body)
    app.add_middleware(StatsMiddleware, stats=stats)
    app.state.store, app.state.faults, app.state.stats = store, injector, stats
    return app
