"""`sfpms onboard [--dry-run] [--out report.jsonl]`: pair what an org already has."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from foundation.settings import get_settings
from sfpms.commands.mapping_file import effective_mapping, mapping_option

if TYPE_CHECKING:
    from sfpms.onboarding.survey import Survey

#: Ambiguous matches listed on the terminal per flow (all of them go to --out).
LISTED = 10


@click.command()
@click.option("--dry-run", is_flag=True, help="Read and plan only; write nothing.")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write every record's decision and reason as JSON lines.",
)
@click.option("--flow", "only", multiple=True, help="Only these flows (repeatable).")
@mapping_option
def onboard(
    dry_run: bool, out_path: Path | None, only: tuple[str, ...], mapping_path: Path | None
) -> None:
    """Link the records both systems already hold (by each flow's match criteria), create
    the rest where the flow creates, and leave out-of-scope and ambiguous ones alone.

    Reads Salesforce and Custompms through the capture code (scope included) and the
    engine's link table. With --dry-run nothing is written. Without it, each decided record
    is published again with its decision, and the running engine carries it out; a run that
    stopped resumes, and a second run finds nothing left to do.
    """
    from sfpms.onboarding.survey import survey
    from streams.mapping.avro import install

    loaded = effective_mapping(mapping_path)
    flows = dict(loaded.flows)
    unknown = [name for name in only if name not in flows]
    if unknown:
        raise click.BadParameter(
            f"unknown flow {', '.join(unknown)}; choose from {', '.join(flows)}",
            param_hint="--flow",
        )
    install(flows.values())
    settings = get_settings()
    console = Console(stderr=True)
    console.print(f"mapping {loaded.source} (sha256 {loaded.digest})")
    with Progress(
        TextColumn("reading {task.fields[what]}"), MofNCompleteColumn(), console=console
    ) as bar:
        task = bar.add_task("read", total=None, what="")

        def read_progress(what: str, count: int) -> None:
            bar.update(task, completed=count, what=what)

        found = asyncio.run(survey(settings, flows, read_progress))
    if only:
        found.plans = [(flow, plan) for flow, plan in found.plans if flow.name in only]
    _print_summary(found, dry_run)
    if out_path is not None:
        lines = _report(found)
        with out_path.open("w", encoding="utf-8") as out:
            for line in lines:
                out.write(json.dumps(line, default=str) + "\n")
        click.echo(f"wrote {len(lines)} decisions to {out_path}")
    if dry_run:
        click.echo("dry run: nothing was written")
        return
    if not any(plan.has_work for _flow, plan in found.plans):
        click.echo("nothing to do: every record is linked already or left alone")
        return
    _publish(settings, found, loaded.digest, console)


def _print_summary(found: Survey, dry_run: bool) -> None:
    would = "would " if dry_run else ""
    for flow, plan in found.plans:
        counts = plan.summary()
        click.echo(f"{flow.name} ({flow.title})")
        click.echo(f"  {would}link {counts['link']} pairs")
        click.echo(f"  ambiguous matches: {counts['ambiguous']}")
        for item in plan.ambiguous[:LISTED]:
            click.echo(
                f"    key {item.key}: Salesforce {', '.join(item.sf_ids)}; "
                f"Custompms {', '.join(item.pms_ids)}"
            )
        if len(plan.ambiguous) > LISTED:
            click.echo(f"    ... {len(plan.ambiguous) - LISTED} more (see --out)")
        click.echo(
            f"  {would}create {counts['create_in_custompms']} in Custompms and "
            f"{counts['create_in_salesforce']} in Salesforce"
        )
        click.echo(
            f"  {'leaves' if not dry_run else 'would leave'} {counts['left_alone']} alone "
            f"({counts['already_linked']} already linked)"
        )
    unreadable = found.unreadable
    if unreadable:
        click.echo(f"{len(unreadable)} records could not be read and are left alone (see --out)")


def _report(found: Survey) -> list[dict[str, Any]]:
    from streams.mapping.onboarding import report_lines

    lines: list[dict[str, Any]] = []
    for flow, plan in found.plans:
        lines += list(report_lines(flow, plan))
    for captured in found.unreadable:
        lines.append({"decision": "unreadable", "id": captured.id, "reason": captured.error})
    return lines


def _publish(settings: Any, found: Survey, digest: str, console: Console) -> None:
    from sfpms.onboarding.publish import publish

    columns: Iterable[Any] = (
        TextColumn("onboarding"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("publish", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        published, failed, state = asyncio.run(publish(settings, found, digest, progress))
    resumed = " (resumed)" if state.resumed else ""
    click.echo(
        f"run {state.run}{resumed}: published {published} records for the engine to link or "
        f"create ({failed} could not be published, see the dead-letter topic)"
    )
    click.echo(
        "the running engine carries the decisions out; `sfpms onboard --dry-run` shows "
        "what is left, a second run does nothing once it is done"
    )
