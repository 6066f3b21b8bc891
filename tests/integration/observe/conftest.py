"""Fixtures for the observe integration tests: Chromium for the browser test.

CI starts from a machine with only Python, so the session installs Debian's `chromium`
with apt-get when /usr/bin/chromium is missing (the machines run as root). If that fails the
browser test fails with the command to run by hand: it never skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi import FastAPI, Response
from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from pydantic import SecretStr

from foundation.settings import Settings
from sfpms.dashboard import create_app
from sfpms.observe.sampler import SamplerOptions
from sfpms.observe.tracker import TrackerOptions
from tests.integration.observe.scenario import RunningDashboard, lagging_deployment
from tests.support.servers import serve_in_thread

CHROMIUM = Path("/usr/bin/chromium")
INSTALL = ["apt-get", "install", "-y", "-q", "chromium"]


def _run(argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)


def _install_chromium() -> str | None:
    """Install Chromium from Debian; returns None on success, else what went wrong."""
    if shutil.which("apt-get") is None:
        return "apt-get is not available on this machine"
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    try:
        for argv in (["apt-get", "update", "-q"], INSTALL):
            done = _run(prefix + argv, timeout=900)
            if done.returncode != 0:
                return f"`{' '.join(argv)}` exited {done.returncode}: {done.stderr[-1500:]}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def chromium_binary() -> Path:
    """/usr/bin/chromium, installed from Debian's packages if it is not there yet."""
    found = shutil.which("chromium")
    if found:
        return Path(found)
    problem = _install_chromium()
    found = shutil.which("chromium")
    if problem or not found:
        pytest.fail(
            "the dashboard browser test needs headless Chromium and it could not be "
            f"installed ({problem or 'no chromium binary after install'}). Install it with "
            f"`{' '.join(INSTALL)}` (as root) and run the tests again.",
            pytrace=False,
        )
    return Path(found)


def _metrics_app(registry: CollectorRegistry) -> FastAPI:
    app = FastAPI()

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type="text/plain")

    return app


#: e2e latency samples per flow (seconds): each flow's card must show its own figures
LATENCY_SAMPLES = {
    "task_project": (0.2, 0.3, 0.4, 0.7, 1.5),
    "task_task": (12.0, 13.0, 14.0),
    "organization_customer": (5.3,),
}


def _metrics_target(kind: str) -> CollectorRegistry:
    """What a sink (latency histograms, the API budget) or CDC process (API limit use)
    would expose."""
    registry = CollectorRegistry()
    if kind == "sinks":
        latency = Histogram(
            "sfpms_e2e_latency_seconds",
            "Source commit time to target write acknowledged, per flow",
            ["flow"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
            registry=registry,
        )
        for flow, values in LATENCY_SAMPLES.items():
            for value in values:
                latency.labels(flow).observe(value)
        reserve = Gauge("sfpms_api_budget_reserve", "reserve", ["system"], registry=registry)
        paused = Gauge("sfpms_api_budget_paused", "paused", ["system"], registry=registry)
        reserve.labels("salesforce").set(1500)
        paused.labels("salesforce").set(0)
        paused.labels("custompms").set(1)
    else:
        used = Gauge("sfpms_api_limit_used", "API calls used", ["system"], registry=registry)
        limit = Gauge("sfpms_api_limit_max", "API call limit", ["system"], registry=registry)
        used.labels("salesforce").set(1200)
        limit.labels("salesforce").set(15000)
    return registry


@pytest.fixture
def running_dashboard(settings: Settings) -> Iterator[RunningDashboard]:
    """The real app under uvicorn, sampling a real broker every 0.3 s, with real /metrics
    endpoints of a sink and a CDC process beside it."""
    token = "test-dashboard-token-7f3a"
    with ExitStack() as stack:
        lagging = stack.enter_context(lagging_deployment(settings))
        sinks = stack.enter_context(serve_in_thread(_metrics_app(_metrics_target("sinks"))))
        cdc = stack.enter_context(serve_in_thread(_metrics_app(_metrics_target("cdc"))))
        configured = settings.model_copy(
            update={
                "sink_metrics_port": sinks.port,
                "cdc_metrics_port": cdc.port,
                "dashboard_token": SecretStr(token),
            }
        )
        options = SamplerOptions(interval_s=0.3, tracker=TrackerOptions(stop_after_s=1.0))
        server = stack.enter_context(serve_in_thread(create_app(configured, options=options)))
        yield RunningDashboard(server.url, configured, lagging, token)
