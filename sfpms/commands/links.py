"""`sfpms links show|find|export`: inspect the link table."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from foundation.settings import get_settings


def _hubs() -> dict[str, Any]:
    from streams.engine.replay import load_link_table

    return dict(load_link_table(get_settings()).hubs)


def _rows(hub: Any) -> list[dict[str, Any]]:
    return [
        {
            "salesforce_id": hub.sf_id,
            "salesforce_object": hub.sf_object,
            "flow": link.flow,
            "state": link.state,
            "custompms_id": link.pms_id,
            "born_in": link.born_in,
            "deleted": hub.deleted,
        }
        for link in hub.links.values()
    ]


@click.group()
def links() -> None:
    """The link table: which Salesforce record is linked to which Custompms record."""


@links.command("show")
@click.argument("record_id")
def show(record_id: str) -> None:
    """One Salesforce record's links, known state and per-field provenance (as JSON)."""
    hubs = _hubs()
    hub = hubs.get(record_id)
    if hub is None:
        hub = next(
            (h for h in hubs.values() if any(k.pms_id == record_id for k in h.links.values())),
            None,
        )
    if hub is None:
        raise click.ClickException(f"{record_id} is in no link")
    data = hub.to_json()
    shown = {
        "salesforce_id": hub.sf_id,
        "salesforce_object": hub.sf_object,
        "deleted": hub.deleted,
        "salesforce_known": hub.sf_known,
        "provenance": {
            field: {"set_by": w.source, "at_ms": w.ts, "value": w.value}
            for field, w in hub.winners.items()
        },
        "links": data.get("l", {}),
    }
    click.echo(json.dumps(shown, indent=2, default=str))


@links.command("find")
@click.option("--flow", default=None)
@click.option("--state", type=click.Choice(["pending", "linked", "detached"]), default=None)
@click.option("--custompms-id", default=None)
def find(flow: str | None, state: str | None, custompms_id: str | None) -> None:
    """Links matching the filters, as a table."""
    table = Table("salesforce id", "object", "flow", "state", "custompms id", "born in")
    count = 0
    for hub in _hubs().values():
        for row in _rows(hub):
            wanted = {"flow": flow, "state": state, "custompms_id": custompms_id}
            if any(value and row[key] != value for key, value in wanted.items()):
                continue
            count += 1
            table.add_row(
                row["salesforce_id"],
                row["salesforce_object"],
                row["flow"],
                row["state"],
                row["custompms_id"] or "",
                row["born_in"],
            )
    Console().print(table)
    click.echo(f"{count} links")


@links.command("export")
def export() -> None:
    """Every link as JSON lines (for audits and spreadsheets)."""
    for hub in _hubs().values():
        for row in _rows(hub):
            click.echo(json.dumps(row))


@links.command("history")
@click.argument("record_id")
@click.option(
    "--since",
    default="7d",
    show_default=True,
    help="How far back to read the topics: 30m, 12h, 7d.",
)
@click.option("--json", "as_json", is_flag=True, help="Everything as one JSON document.")
def history(record_id: str, since: str, as_json: bool) -> None:
    """Why is this record in this state: both records, who set each field and when, and
    what happened to the link (changes seen, writes issued, results, dead letters)."""
    import time

    from sfpms.commands.linkview import print_story
    from sfpms.observe.linkstory import NoSuchLink, link_story

    since_ms = int(time.time() * 1000) - _duration_ms(since)
    try:
        story = link_story(get_settings(), record_id, since_ms)
    except NoSuchLink as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(story, indent=2, default=str))
        return
    print_story(story, since)


def _duration_ms(text: str) -> int:
    units = {"m": 60_000, "h": 3_600_000, "d": 86_400_000}
    try:
        return int(float(text[:-1]) * units[text[-1]])
    except (KeyError, ValueError, IndexError):
        raise click.BadParameter(
            "use a number and m, h or d: 30m, 12h, 7d", param_hint="--since"
        ) from None
