"""Print one link's story (sfpms/observe/linkstory.py) for a person at a terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

KIND_STYLE = {"change": "cyan", "write": "yellow", "result": "green", "dead_letter": "bold red"}


def _value(value: Any) -> str:
    return "∅" if value is None else str(value)


def print_story(story: dict[str, Any], since: str) -> None:
    """Records, provenance and history, newest last (the state now is at the bottom)."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 160))
    sf = story["salesforce"]
    state = "DELETED" if sf["deleted"] else "live"
    console.print(f"[bold]Salesforce {sf['object']} {sf['id']}[/] ({state})")
    for link in story["links"]:
        console.print(
            f"  {link['flow']}: {link['state']} ↔ Custompms {link['custompms_entity']} "
            f"{link['custompms_id'] or '(not created yet)'} · born in {link['born_in']}"
        )
    records = Table(
        "field", "Salesforce (as last seen)", title="both records", title_justify="left"
    )
    flows = [link for link in story["links"] if link["custompms_known"]]
    for link in flows:
        records.add_column(f"Custompms {link['custompms_id']}")
    names = sorted(set(sf["known"]) | {k for link in flows for k in link["custompms_known"]})
    for name in names:
        row = [name, _value(sf["known"].get(name, "")) if name in sf["known"] else ""]
        row += [
            _value(link["custompms_known"][name]) if name in link["custompms_known"] else ""
            for link in flows
        ]
        records.add_row(*row)
    console.print(records)
    winners = Table(
        "field",
        "value",
        "set in",
        "by",
        "at",
        title="who set each field (the winning edit)",
        title_justify="left",
    )
    for row in story["provenance"]:
        winners.add_row(row["field"], _value(row["value"]), row["side"], row["who"], row["at"])
    console.print(winners if story["provenance"] else "no person's edit recorded yet")
    events = Table("at", "what", "where", title=f"history since {since} ago", title_justify="left")
    for event in story["history"]:
        style = KIND_STYLE.get(event["kind"], "white")
        events.add_row(event["at"], f"[{style}]{event['summary']}[/]", event["where"])
    console.print(events if story["history"] else f"nothing on the topics since {since} ago")
    counts = story["counts"]
    console.print(
        f"{counts['change']} change(s) seen, {counts['write']} write(s) issued, "
        f"{counts['result']} result(s), {counts['dead_letter']} dead letter(s)"
    )
