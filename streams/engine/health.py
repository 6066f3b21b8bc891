"""The engine worker's `/healthz`, `/readyz` and `/metrics` pages on its Faust web server.

`/readyz` checks what the worker needs to make progress: the broker and the schema registry
(every record it reads or writes is Avro through the registry). The checks run in a thread
(they block) and are cached (foundation/health.py), so probes never stall the agents.
"""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client import REGISTRY, generate_latest

from foundation.health import Readiness, alive, dependency_checks
from foundation.settings import Settings


def add_health_pages(app: Any, settings: Settings) -> Readiness:
    """Register the pages on `app` (a faust.App); returns the readiness checks."""
    readiness = Readiness(dependency_checks(settings, registry=True))

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        status, body = alive()
        return web.json(body, status=status)

    @app.page("/readyz")
    async def readyz(web: Any, request: Any) -> Any:
        status, body = await asyncio.to_thread(readiness.report)
        return web.json(body, status=status)

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        # aiohttp refuses a charset inside content_type; the text format is UTF-8 anyway.
        return web.bytes(generate_latest(REGISTRY), content_type="text/plain; version=0.0.4")

    return readiness
