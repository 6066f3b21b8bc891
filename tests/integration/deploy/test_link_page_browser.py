"""The dashboard's page for one link, in headless Chromium, on the compose stack after a
person's Salesforce Task was synced: what an operator at 3 a.m. sees. Screenshot:
artifacts/link.png (git-ignored)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.deploy.compose_stack import DASHBOARD_TOKEN, ComposeStack
from tests.integration.observe.browser import Chromium, Page

pytestmark = pytest.mark.integration

SCREENSHOT = Path(__file__).resolve().parents[3] / "artifacts" / "link.png"
READ = """({
  title: document.getElementById('title').textContent,
  state: document.getElementById('state').textContent,
  subtitle: document.getElementById('subtitle').textContent,
  records: Object.fromEntries([...document.querySelectorAll('#records tbody tr')].map(r =>
    [r.dataset.field, [...r.querySelectorAll('td')].slice(1).map(c => c.textContent)])),
  provenance: Object.fromEntries([...document.querySelectorAll('#provenance tbody tr')].map(r =>
    [r.dataset.field, {value: r.querySelector('.value').textContent,
                       side: r.querySelector('.side').textContent,
                       who: r.querySelector('.who').textContent}])),
  kinds: [...document.querySelectorAll('#history tbody tr')].map(r => r.dataset.kind),
  summaries: [...document.querySelectorAll('#history td.summary')].map(c => c.textContent),
  counts: document.getElementById('counts').textContent,
  address: location.href,
})"""


@pytest.mark.timeout(900)  # the first run on a fresh machine installs Chromium
async def test_the_link_page_shows_both_records_who_set_each_field_and_the_history(
    chromium_binary: Path,
    compose_stack: ComposeStack,
    synced_task: dict[str, Any],
    tmp_path: Path,
) -> None:
    task_id, project_id = synced_task["task_id"], synced_task["project_id"]
    browser = Chromium(chromium_binary, tmp_path / "profile", size=(1360, 1200))
    page: Page | None = None
    try:
        page = await Page.open(browser.start())
        url = compose_stack.url("dashboard")
        await page.log_in(url, DASHBOARD_TOKEN)
        await page.navigate(f"{url}/links/{project_id}")
        await page.wait_for("document.body.dataset.ready !== '0'", timeout=60)
        shown: dict[str, Any] = await page.evaluate(READ)
        await page.screenshot(SCREENSHOT)
    finally:
        if page is not None:
            await page.close()
        browser.stop()

    assert shown["title"] == f"Salesforce Task {task_id}"
    assert shown["state"] == "linked"
    assert f"task_project: linked ↔ Custompms project {project_id}" in shown["subtitle"]
    assert shown["records"]["Subject"][0] == "Compose smoke"  # the Salesforce column
    assert "Compose smoke" in shown["records"]["name"]  # the project's column
    subject = shown["provenance"]["Subject"]
    assert (subject["value"], subject["side"]) == ("Compose smoke", "Salesforce")
    assert subject["who"] not in ("", "the sync")
    assert shown["kinds"][0] == "change"
    assert {"change", "write", "result"} <= set(shown["kinds"])
    assert shown["summaries"][0].startswith(f"Salesforce Task {task_id} created by ")
    assert any(s.startswith("write applied: create Custompms project") for s in shown["summaries"])
    assert "dead letter(s)" in shown["counts"]
    assert shown["address"] == f"{url}/links/{project_id}"  # no token in the address
    assert SCREENSHOT.stat().st_size > 10_000
