"""`sfpms status [--json]`: the health of each component of a running stack (its /readyz)."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from foundation.settings import get_settings
from sfpms.budget_status import budget_from, describe, scrape_targets
from sfpms.observe.scrape import Scraped
from sfpms.stack import components, not_ready_because, read_state, state_file


@click.command()
@click.option(
    "--json", "as_json", is_flag=True, help="Machine-readable: URL, port, state per component."
)
def status(as_json: bool) -> None:
    """Show what runs where and whether it answers."""
    settings = get_settings()
    recorded = read_state(settings) or {"components": {}}
    rows = []
    for part in components(settings):
        entry = recorded["components"].get(part.name)
        why = ""
        if part.ready_url:
            # One answer gives both the verdict and the reason (a second request could tell
            # another story), waited for as long as the component's checks may take.
            why = not_ready_because(part.ready_url)
            healthy = why == ""
        else:
            try:
                healthy = part.probe()
            except Exception:
                healthy = False
        if entry is None and not healthy:
            state = "not running"
            why = ""
        else:
            state = "up" if healthy else "down"
        rows.append(
            {
                "name": part.name,
                "url": part.url,
                "port": part.port,
                "pid": entry.get("pid") if entry else None,
                "state": state,
                "why": why,
            }
        )
    if not as_json and not recorded["components"] and all(r["state"] != "up" for r in rows):
        raise click.ClickException(
            f"no stack runs here: nothing answers on 127.0.0.1 and {state_file(settings)} does "
            "not exist; start it with `sfpms up`"
        )
    scrapes = scrape_targets(settings)  # once: the budget and the refused credentials
    budget = budget_from(scrapes)
    refused = _credentials_refused(scrapes)
    if as_json:
        report = {"components": rows, "api_budget": budget, "credentials_refused": refused}
        click.echo(json.dumps(report, indent=2))
        if refused or any(row["state"] != "up" for row in rows):
            raise SystemExit(1)
        return
    table = Table("component", "state", "url", "pid", "why not ready")
    for row in rows:
        table.add_row(
            str(row["name"]),
            str(row["state"]),
            str(row["url"]),
            str(row["pid"] or "-"),
            str(row["why"]),
        )
    console = Console()
    console.print(table)
    for line in describe(budget):
        console.print(line)
    for system in refused:
        fix = "SFPMS_CUSTOMPMS_TOKEN" if system == "custompms" else "the SFPMS_SALESFORCE_* login"
        click.echo(
            f"{system} refuses the sync's credentials (HTTP 401): check {fix}; capture and "
            "sinks keep retrying and go on by themselves once it is fixed",
            err=True,
        )
    if refused or any(row["state"] != "up" for row in rows):
        raise SystemExit(1)


def _credentials_refused(scrapes: dict[str, Scraped]) -> list[str]:
    """Systems whose API refuses the sync's credentials, as the CDC and sinks report it."""
    refused: set[str] = set()
    for scraped in scrapes.values():
        for name, labels, value in scraped.api:
            if name == "sfpms_api_credentials_refused" and value >= 1:
                refused.add(dict(labels).get("system", "?"))
    return sorted(refused)
