"""The `/__emulator__/` admin routes shared by both emulators (faults and stats)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from emulators.common.faults import ADMIN_PREFIX, FaultConfig, FaultInjector
from emulators.common.stats import RequestStats


def admin_router(injector: FaultInjector, stats: RequestStats) -> APIRouter:
    """Routes: GET/POST/DELETE /__emulator__/faults, GET/DELETE /__emulator__/stats."""
    router = APIRouter(prefix=ADMIN_PREFIX, include_in_schema=False)

    @router.get("/faults")
    def get_faults() -> dict[str, Any]:
        return {"config": injector.config.model_dump(), "injected": dict(injector.injected)}

    @router.post("/faults")
    def set_faults(config: FaultConfig) -> dict[str, Any]:
        injector.set(config)
        return {"config": injector.config.model_dump()}

    @router.delete("/faults")
    def clear_faults() -> dict[str, Any]:
        injector.set(FaultConfig())
        return {"config": injector.config.model_dump()}

    @router.get("/stats")
    def get_stats() -> dict[str, Any]:
        return stats.snapshot()

    @router.delete("/stats")
    def reset_stats() -> dict[str, Any]:
        stats.reset()
        return stats.snapshot()

    return router
