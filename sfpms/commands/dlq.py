"""`sfpms dlq list|show|redrive`: inspect dead letters and send them through again."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from foundation.settings import get_settings


def _load(stage: str | None, flow: str | None) -> list[tuple[int, int, dict[str, Any]]]:
    from sfpms.deadletters import read_dead_letters

    return [
        (p, o, r)
        for p, o, r in read_dead_letters(get_settings())
        if (stage is None or r["stage"] == stage) and (flow is None or r.get("flow") == flow)
    ]


@click.group()
def dlq() -> None:
    """Dead letters: records that failed, with the reason, kept for an operator."""


@dlq.command("list")
@click.option("--stage", type=click.Choice(["cdc", "engine", "sink"]), default=None)
@click.option("--flow", default=None)
@click.option("--json", "as_json", is_flag=True)
def list_(stage: str | None, flow: str | None, as_json: bool) -> None:
    """One line per dead letter: where, when, which record and field, and why."""
    rows = _load(stage, flow)
    if as_json:
        for partition, offset, record in rows:
            click.echo(json.dumps(_public(partition, offset, record), default=str))
        return
    table = Table("id", "stage", "failed at", "flow", "record", "field", "reason")
    for partition, offset, r in rows:
        table.add_row(
            f"{partition}:{offset}",
            r["stage"],
            str(r["failed_at"])[:19],
            r.get("flow") or "",
            r.get("record") or "",
            r.get("field") or "",
            r["reason"][:120],
        )
    Console().print(table)
    click.echo(f"{len(rows)} dead letters")


@dlq.command("show")
@click.argument("dead_letter_id")
def show(dead_letter_id: str) -> None:
    """Everything about one dead letter (ID is partition:offset from `list`)."""
    for partition, offset, record in _load(None, None):
        if f"{partition}:{offset}" == dead_letter_id:
            click.echo(json.dumps(_public(partition, offset, record), indent=2, default=str))
            return
    raise click.ClickException(f"no dead letter {dead_letter_id}")


@dlq.command("redrive")
@click.argument("dead_letter_ids", nargs=-1)
@click.option("--all", "redrive_all", is_flag=True, help="Every dead letter not re-driven yet.")
@click.option("--stage", type=click.Choice(["cdc", "engine", "sink"]), default=None)
@click.option("--flow", default=None)
@click.option(
    "--again", is_flag=True, help="Also send those re-driven before (they are skipped otherwise)."
)
def redrive(
    dead_letter_ids: tuple[str, ...],
    redrive_all: bool,
    stage: str | None,
    flow: str | None,
    again: bool,
) -> None:
    """Send dead letters through again, after a fix; each once (see --again).

    Sink dead letters go back to their write topic (fix the data in the target system or
    the mapping first); engine dead letters go back to the topic they came from, with their
    key; CDC dead letters are read again from their source system and published anew.
    A dead letter whose copy was cut short (a record near the broker's size limit) is sent
    from the original at its topic/partition/offset. What was sent is recorded, so
    `--all` twice sends nothing twice.
    """
    from sfpms.deadletters import redrive_records

    if not dead_letter_ids and not redrive_all:
        raise click.UsageError("name dead letters (partition:offset) or pass --all")
    chosen = [
        (p, o, r) for p, o, r in _load(stage, flow) if redrive_all or f"{p}:{o}" in dead_letter_ids
    ]
    report = redrive_records(get_settings(), chosen, again=again)
    click.echo(
        f"re-sent {len(report.sent)}; skipped {len(report.already)} re-driven before"
        + (" (--again sends them again)" if report.already else "")
        + f"; {len(report.skipped)} could not be sent"
    )
    for ident, why in sorted(report.skipped.items()):
        click.echo(f"  {ident}: {why}")


def _public(partition: int, offset: int, record: dict[str, Any]) -> dict[str, Any]:
    """A dead letter for display: payload bytes summarised, never dumped raw."""
    shown = {k: v for k, v in record.items() if k not in ("key", "value")}
    shown["id"] = f"{partition}:{offset}"
    shown["key"] = (record.get("key") or b"").decode(errors="replace")
    shown["value_bytes"] = record.get("value_size") or len(record.get("value") or b"")
    shown["copy_cut_short"] = bool(record.get("truncated"))
    return shown
