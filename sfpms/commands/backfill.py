"""`sfpms backfill --flow F`: re-publish a flow's records as op r, resumably (docs/cdc.md)."""

from __future__ import annotations

import asyncio
import signal

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

SIDES = ("salesforce", "custompms", "both")


class RateColumn(ProgressColumn):
    """Records per second of a task (rich's own speed estimate)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} records/s", style="cyan")


@click.command()
@click.option("--flow", required=True, help="The flow whose records to backfill (`sfpms flows`).")
@click.option(
    "--source",
    type=click.Choice(SIDES),
    default="both",
    show_default=True,
    help="Which side of the flow to read.",
)
@click.option(
    "--bulk-threshold",
    type=click.IntRange(min=0),
    default=None,
    help="Records from which Salesforce is read through Bulk API 2.0 instead of REST "
    "[default: SFPMS_CAPTURE__BULK_THRESHOLD or 10000].",
)
@click.option(
    "--restart",
    is_flag=True,
    help="Start over instead of resuming a stopped backfill after its last published record.",
)
def backfill(flow: str, source: str, bulk_threshold: int | None, restart: bool) -> None:
    """Publish every live record of a flow's Salesforce object and Custompms resource as
    op r (Bulk API 2.0 above the threshold, REST below), with progress; Ctrl-C stops after
    the current page and a second run resumes there."""
    from connectors.cdc.backfill_run import BackfillReport, flow_entities, run_backfill
    from foundation.errors import ConfigError
    from foundation.settings import get_settings

    settings = get_settings()
    try:
        flow_entities(flow)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--flow") from exc
    options = settings.capture
    if bulk_threshold is not None:
        options = options.model_copy(update={"bulk_threshold": bulk_threshold})
    sides = ("salesforce", "custompms") if source == "both" else (source,)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(label: str, done: int, total: int | None) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            bar.update(tasks[label], completed=done, total=total)

        async def main() -> list[BackfillReport]:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            reports = await run_backfill(
                settings, flow, options, sides=sides, progress=progress, stop=stop, fresh=restart
            )
            return reports

        reports = asyncio.run(main())
    for report in reports:
        state = "done" if report.finished else "stopped (run it again to resume)"
        rate = report.published / report.seconds if report.seconds > 0 else 0.0
        click.echo(
            f"{report.label}: {report.published} records published as op r through "
            f"{report.via} in {report.seconds:.1f}s ({rate:,.0f}/s), {state}"
        )
