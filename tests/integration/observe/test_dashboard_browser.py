"""The dashboard page in real headless Chromium: what a person sees after the JS rendered.

Saves screenshots to artifacts/ (git-ignored) for people to look at: the whole page
(dashboard.png) and the flow cards (flow-cards.png).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sfpms.dashboard.auth import SESSION_COOKIE
from tests.integration.observe.browser import Chromium, Page
from tests.integration.observe.scenario import RunningDashboard

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"
SCREENSHOT = ARTIFACTS / "dashboard.png"
CARDS_SHOT = ARTIFACTS / "flow-cards.png"

CARDS = """
[...document.querySelectorAll('article.card')].map(c => ({
  flow: c.dataset.flow, status: c.dataset.status, health: c.dataset.health,
  lag: c.querySelector('.flow-lag').textContent,
  dlq: c.querySelector('.flow-dlq').textContent,
  chart: !!c.querySelector('svg.chart polyline'),
  latency: c.querySelector('.latency').textContent,
}))
"""
BUDGETS = """
[...document.querySelectorAll('#api .budget')].map(b => ({
  system: b.dataset.system, paused: b.dataset.paused,
  words: b.querySelector('.budget-words').textContent,
  used: b.querySelector('.used')?.style.width || null,
  reserve: b.querySelector('.reserve')?.style.width || null,
}))
"""
ROWS = """
[...document.querySelectorAll('tr[data-group]')].map(r => ({
  group: r.dataset.group, topic: r.dataset.topic, partition: Number(r.dataset.partition),
  lag: r.querySelector('td.lag').textContent, status: r.querySelector('.status').textContent,
}))
"""
# the sampler's statuses have settled and the lag charts have at least two points
SETTLED = """
document.body.dataset.ready === '1'
&& document.querySelector('article[data-flow="task_task"]')?.dataset.status === 'STALL'
&& [...document.querySelectorAll('td')].some(cell => cell.textContent.trim() === 'STOP')
&& document.querySelector('article[data-flow="task_project"]')?.dataset.status === 'STALL'
&& document.getElementById('dlq-count').textContent === '3'
&& !!document.querySelector('article[data-flow="task_project"] svg.chart polyline')
"""


@pytest.mark.timeout(900)  # the first run on a fresh machine installs Chromium
async def test_the_page_shows_flow_cards_partition_lag_and_dead_letters(
    chromium_binary: Path, running_dashboard: RunningDashboard, tmp_path: Path
) -> None:
    dash = running_dashboard
    browser = Chromium(chromium_binary, tmp_path / "profile")
    page: Page | None = None
    try:
        page = await Page.open(browser.start())
        await page.log_in(dash.url, dash.token)
        await page.wait_for(SETTLED, timeout=30)
        cards: list[dict[str, Any]] = await page.evaluate(CARDS)
        rows: list[dict[str, Any]] = await page.evaluate(ROWS)
        address = await page.evaluate("location.href")
        script_cookies = await page.evaluate("document.cookie")
        budgets: list[dict[str, Any]] = await page.evaluate(BUDGETS)
        await page.screenshot(SCREENSHOT)
        await page.screenshot(CARDS_SHOT, selector="#flows")
    finally:
        if page is not None:
            await page.close()
        browser.stop()

    by_flow = {c["flow"]: c for c in cards}
    assert set(by_flow) == set(dash.lagging.flow_lag)
    for flow, lag in dash.lagging.flow_lag.items():
        assert by_flow[flow]["lag"] == str(lag), flow
        assert by_flow[flow]["chart"], flow
    assert by_flow["task_project"]["health"] == "error"
    assert by_flow["task_project"]["dlq"] == "2"
    assert by_flow["division_customer"]["health"] == "error"
    assert by_flow["organization_customer"] | {"chart": True, "latency": ""} == {
        "flow": "organization_customer", "status": "STALL", "health": "error",
        "lag": "3", "dlq": "0", "chart": True, "latency": "",
    }  # fmt: skip

    def shown(group: str, topic: str) -> dict[int, tuple[str, str]]:
        return {
            r["partition"]: (r["lag"], r["status"])
            for r in rows if r["group"] == group and r["topic"] == topic
        }  # fmt: skip

    engine = shown(dash.lagging.engine, dash.lagging.task_changes)
    assert {p: lag for p, (lag, _) in engine.items()} == {
        p: str(v) for p, v in dash.lagging.task_lag.items()
    }
    assert engine[0][1] == "STOP"
    sink = shown(dash.lagging.sink, dash.lagging.project_writes)
    assert {p: lag for p, (lag, _) in sink.items()} == {
        p: str(v) for p, v in dash.lagging.project_lag.items()
    }
    assert sink[1][1] == "STALL"
    # each flow's latency from its own histogram (interpolated the way Prometheus does)
    assert by_flow["task_project"]["latency"] == (
        "e2e latency p50 0.44 s · p95 1.8 s · p99 1.9 s (5 writes, mean 0.62 s)"
    )
    assert by_flow["task_task"]["latency"] == (
        "e2e latency p50 20.0 s · p95 29.0 s · p99 29.8 s (3 writes, mean 13.0 s)"
    )
    assert by_flow["organization_customer"]["latency"] == (
        "e2e latency p50 5.3 s · p95 5.3 s · p99 5.3 s (1 write, mean 5.3 s)"
    )
    assert by_flow["division_customer"]["latency"].startswith("e2e latency n/a")
    api = {b["system"]: b for b in budgets}
    assert api["salesforce"] == {
        "system": "salesforce",
        "paused": "0",
        "used": "8%",
        "reserve": "10%",
        "words": "Salesforce: 1,200 of 15,000 API calls used today (8.0%); 1,500 kept in "
        "reserve for other integrations, so the sync pauses at 13,500 (12,300 calls left for it)",
    }
    assert api["custompms"]["paused"] == "1"
    assert "PAUSED: the sync's budget is spent" in api["custompms"]["words"]
    assert "sfpms_api" not in "".join(b["words"] for b in budgets)  # no raw metric strings
    assert address == f"{dash.url}/"  # the token never was in the address bar
    assert SESSION_COOKIE not in script_cookies  # HttpOnly: the page's scripts cannot read it
    assert SCREENSHOT.stat().st_size > 10_000
    assert CARDS_SHOT.stat().st_size > 5_000
