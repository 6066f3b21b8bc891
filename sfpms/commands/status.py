"""`sfpms status [--json]`: the health of each component of a running stack."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from foundation.settings import get_settings
from sfpms.budget_status import api_budget, describe, metrics_targets
from sfpms.stack import components, read_state


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
        try:
            healthy = part.probe()
        except Exception:
            healthy = False
        if entry is None and not healthy:
            state = "not running"
        else:
            state = "up" if healthy else "down"
        rows.append(
            {
                "name": part.name,
                "url": part.url,
                "port": part.port,
                "pid": entry.get("pid") if entry else None,
                "state": state,
            }
        )
    budget = api_budget(metrics_targets(settings))
    if as_json:
        click.echo(json.dumps({"components": rows, "api_budget": budget}, indent=2))
        return
    table = Table("component", "state", "url", "pid")
    for row in rows:
        table.add_row(str(row["name"]), str(row["state"]), str(row["url"]), str(row["pid"] or "-"))
    console = Console()
    console.print(table)
    for line in describe(budget):
        console.print(line)
    if any(row["state"] != "up" for row in rows):
        raise SystemExit(1)
