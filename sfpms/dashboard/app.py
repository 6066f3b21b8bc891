"""The dashboard's routes. Everything is read-only (GET) and served from the sampler's memory.

Routes: `/` (the page), `/healthz`, `/readyz` (the last poll of the broker succeeded
recently), `/metrics` (Prometheus), `/links/{id}` (one link's story), and the JSON API
behind the pages: `/api/overview`, `/api/flows`, `/api/groups`, `/api/groups/{group}`,
`/api/history`, `/api/deadletters`, `/api/links/{id}`. Settings are never rendered;
secrets never leave the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from functools import cache
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from foundation.settings import Settings
from sfpms.dashboard.auth import install_access_control
from sfpms.observe.exposition import CONTENT_TYPE, render
from sfpms.observe.sampler import Sampler, SamplerOptions

log = logging.getLogger(__name__)

#: how often the page fetches /api/overview
REFRESH_MS = 3000


@cache
def link_page() -> str:
    """link.html with the shared stylesheet and its script inlined."""
    static = files("sfpms.dashboard") / "static"
    html = (static / "link.html").read_text(encoding="utf-8")
    css = (static / "style.css").read_text(encoding="utf-8")
    js = (static / "link.js").read_text(encoding="utf-8")
    return html.replace("/*STYLE*/", css).replace("//SCRIPT", js)


@cache
def page() -> str:
    """index.html with its stylesheet and script inlined (one authenticated request)."""
    static = files("sfpms.dashboard") / "static"
    html = (static / "index.html").read_text(encoding="utf-8")
    css = (static / "style.css").read_text(encoding="utf-8")
    js = (static / "app.js").read_text(encoding="utf-8")
    return (
        html.replace("/*STYLE*/", css)
        .replace("//SCRIPT", js)
        .replace("__REFRESH_MS__", str(REFRESH_MS))
    )


def create_app(
    settings: Settings,
    *,
    sampler: Sampler | None = None,
    options: SamplerOptions | None = None,
    run_sampler: bool = True,
    bind_host: str = "127.0.0.1",
) -> FastAPI:
    """The dashboard app; its lifespan runs the sampler's poll loop and stops it on shutdown.

    `bind_host` is the address it listens on, one of the Host names it answers to
    (sfpms/dashboard/auth.py)."""
    sampler = sampler or Sampler(settings, options)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(sampler.run(stop)) if run_sampler else None
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, timeout=30)
            await asyncio.to_thread(sampler.close)

    app = FastAPI(
        title="sfpms dashboard",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    install_access_control(app, settings, bind_host)
    prefix = settings.topic_prefix

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        """Liveness for `sfpms status`; says whether the sampler has polled, nothing else."""
        return {
            "status": "ok",
            "sampled": sampler.report is not None,
            "last_poll_at": sampler.last_poll_at,
        }

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        """Ready while the sampler's polls of the broker succeed (the page has data)."""
        status, body = readiness_of(sampler)
        return JSONResponse(body, status_code=status)

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return HTMLResponse(page())

    @app.get("/links/{record_id}", response_class=HTMLResponse)
    def link(record_id: str) -> HTMLResponse:
        """One link's story: the page fetches /api/links/{id} (same token)."""
        return HTMLResponse(link_page())

    @app.get("/api/links/{record_id}")
    async def link_story_api(
        record_id: str, hours: float = Query(168.0, gt=0, le=24 * 90)
    ) -> dict[str, Any]:
        """Both records, per-field provenance and the link's history from the topics."""
        from sfpms.observe.linkstory import NoSuchLink, link_story

        since_ms = int((time.time() - hours * 3600) * 1000)
        try:
            return await asyncio.to_thread(link_story, settings, record_id, since_ms)
        except NoSuchLink as exc:
            raise HTTPException(404, str(exc)) from exc

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(render(lambda: sampler.report), media_type=CONTENT_TYPE)

    @app.get("/api/overview")
    def overview() -> dict[str, Any]:
        """Everything the page shows, in one response."""
        report = sampler.report
        body: dict[str, Any] = {
            "ready": report is not None,
            "prefix": prefix,
            "sampler": _sampler_state(sampler),
            "api_usage": sampler.api,
            "api_budget": sampler.budgets,
            "metrics_targets": {
                name: {"url": s.url, "up": s.error is None} for name, s in sampler.scrapes.items()
            },
        }
        if report is None:
            return body
        history = sampler.history(since=report.taken_at - sampler.options.history_s)
        flows = []
        for flow in report.flows:
            row = flow.as_dict()
            row["history"] = history.get(f"flow:{flow.flow}", [])
            flows.append(row)
        body.update(report.as_dict())
        body["flows"] = flows
        body["dlq"] = {
            "size": report.dlq_size,
            "by_flow": {f.flow: f.dead_letters for f in report.flows},
            "href": "/api/deadletters",
        }
        return body

    @app.get("/api/flows")
    def flows() -> list[dict[str, Any]]:
        report = _require(sampler)
        return [f.as_dict() for f in report.flows]

    @app.get("/api/groups")
    def groups() -> list[dict[str, Any]]:
        report = _require(sampler)
        return [g.as_dict() for g in report.groups]

    @app.get("/api/groups/{group}")
    def group(group: str) -> dict[str, Any]:
        found = _require(sampler).group(group)
        if found is None:
            raise HTTPException(404, f"group {group!r} is not watched; see /api/groups")
        return found.as_dict()

    @app.get("/api/history")
    def history(minutes: float = Query(30.0, gt=0, le=24 * 60)) -> dict[str, Any]:
        """Chart series: "flow:<name>" / "group:<name>" -> [[epoch s, lag, lag s], ...]."""
        report = sampler.report
        latest = report.taken_at if report is not None else time.time()
        return {"series": sampler.history(since=latest - minutes * 60)}

    @app.get("/api/deadletters")
    def deadletters(
        limit: int = Query(100, ge=1, le=500), flow: str | None = None
    ) -> dict[str, Any]:
        """The newest dead letters: stage, flow, record, field, reason, failed_at (no bytes)."""
        report = sampler.report
        entries = sampler.dead_letters(limit, flow)
        return {
            "size": report.dlq_size if report else None,
            "entries": [e.as_dict() for e in entries],
        }

    return app


def _require(sampler: Sampler) -> Any:
    report = sampler.report
    if report is None:
        raise HTTPException(503, "no sample yet: the first poll of the broker has not finished")
    return report


def readiness_of(sampler: Sampler) -> tuple[int, dict[str, Any]]:
    """200 when a poll succeeded within three intervals (at least 15 s), else 503 and why."""
    last = sampler.last_poll_at
    horizon = max(15.0, 3 * sampler.options.interval_s)
    if last is not None and time.time() - last <= horizon:
        return 200, {"ready": True, "checks": {"broker": "ok"}}
    cluster = sampler.cluster
    why = f"no broker at {cluster}" if sampler.last_error else f"no poll of {cluster} yet"
    if last is not None:
        why = f"no successful poll of {cluster} for {time.time() - last:.0f} s"
    return 503, {"ready": False, "checks": {"broker": why}}


def _sampler_state(sampler: Sampler) -> dict[str, Any]:
    return {
        "polls": sampler.polls,
        "last_poll_at": sampler.last_poll_at,
        "last_error": sampler.last_error,
        "interval_s": sampler.options.interval_s,
        "history_s": sampler.options.history_s,
        "history_from": sampler.history_source,
    }
