"""The dashboard page in real headless Chromium: what a person sees after the JS rendered.

Saves a screenshot to artifacts/dashboard.png (git-ignored) for people to look at.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sfpms.dashboard.auth import SESSION_COOKIE
from tests.integration.observe.browser import Chromium, Page
from tests.integration.observe.scenario import RunningDashboard

pytestmark = pytest.mark.integration

SCREENSHOT = Path(__file__).resolve().parents[3] / "artifacts" / "dashboard.png"

CARDS = """
[...document.querySelectorAll('article.card')].map(c => ({
  flow: c.dataset.flow, status: c.dataset.status, health: c.dataset.health,
  lag: c.querySelector('.flow-lag').textContent,
  dlq: c.querySelector('.flow-dlq').textContent,
  chart: !!c.querySelector('svg.chart polyline'),
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
&& document.querySelector('article[data-flow="task_task"]')?.dataset.status === 'STOP'
&& document.querySelector('article[data-flow="task_project"]')?.dataset.status === 'STALL'
&& document.getElementById('dlq-count').textContent === '3'
&& !!document.querySelector('article[data-flow="task_project"] svg.chart polyline')
"""


async def log_in(page: Page, dash: RunningDashboard) -> None:
    """What a person does: open the dashboard, get the login form, type the token, submit."""
    await page.navigate(f"{dash.url}/")
    await page.wait_for("!!document.querySelector('form[action=\"/login\"] input[name=token]')")
    await page.evaluate(
        "(() => { const form = document.querySelector('form');"
        f" form.token.value = {json.dumps(dash.token)}; form.submit(); return true; }})()"
    )


@pytest.mark.timeout(900)  # the first run on a fresh machine installs Chromium
async def test_the_page_shows_flow_cards_partition_lag_and_dead_letters(
    chromium_binary: Path, running_dashboard: RunningDashboard, tmp_path: Path
) -> None:
    dash = running_dashboard
    browser = Chromium(chromium_binary, tmp_path / "profile")
    page: Page | None = None
    try:
        page = await Page.open(browser.start())
        await log_in(page, dash)
        await page.wait_for(SETTLED, timeout=30)
        cards: list[dict[str, Any]] = await page.evaluate(CARDS)
        rows: list[dict[str, Any]] = await page.evaluate(ROWS)
        address = await page.evaluate("location.href")
        script_cookies = await page.evaluate("document.cookie")
        api_panel = await page.evaluate("document.getElementById('api').textContent")
        await page.screenshot(SCREENSHOT)
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
    assert by_flow["division_customer"]["health"] == "warn"
    assert by_flow["organization_customer"] | {"chart": True} == {
        "flow": "organization_customer", "status": "OK", "health": "ok",
        "lag": "0", "dlq": "0", "chart": True,
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
    assert "8.0 % of the API limit" in api_panel
    assert address == f"{dash.url}/"  # the token never was in the address bar
    assert SESSION_COOKIE not in script_cookies  # HttpOnly: the page's scripts cannot read it
    assert SCREENSHOT.stat().st_size > 10_000
