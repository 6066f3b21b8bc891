"""`sfpms cdc run|snapshot|positions`: the change-data-capture producers (docs/cdc.md)."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import click

from connectors.cdc.options import DEFAULTS, CdcOptions

SOURCES = ("salesforce", "custompms", "all")


def _options(**given: Any) -> CdcOptions:
    values = {k: v for k, v in given.items() if v is not None}
    try:
        return CdcOptions(**values)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.group()
def cdc() -> None:
    """Publish every change in Salesforce and Custompms to Kafka as change envelopes."""


@cdc.command("run")
@click.option("--source", type=click.Choice(SOURCES), default="all", show_default=True)
@click.option("--metrics-port", type=int, default=None, help="Serve /metrics on 127.0.0.1.")
@click.option(
    "--poll-interval",
    type=float,
    default=DEFAULTS.poll_interval_s,
    show_default=True,
    help="Seconds between polls when idle.",
)
@click.option(
    "--batch-size",
    type=int,
    default=DEFAULTS.batch_size,
    show_default=True,
    help="SOQL LIMIT per Salesforce poll query.",
)
@click.option(
    "--overlap",
    type=float,
    default=DEFAULTS.overlap_s,
    show_default=True,
    help="Seconds re-read before the Salesforce watermark (clock skew).",
)
@click.option("--feed-page-size", type=int, default=DEFAULTS.feed_page_size, show_default=True)
@click.option(
    "--custompms-mode",
    type=click.Choice(["auto", "feed", "poll"]),
    default=DEFAULTS.custompms_mode,
    show_default=True,
    help="Tail the change feed, poll updated_since, or feed unless the API lacks one.",
)
@click.option(
    "--from-now",
    is_flag=True,
    help="With no stored feed position, start at the head of the feed (not at seq 0).",
)
@click.option(
    "--salesforce-objects",
    default=",".join(DEFAULTS.salesforce_objects),
    show_default=True,
    help="Comma-separated sObjects to capture (an org without divisions: Organization,Task).",
)
def run(
    source: str,
    metrics_port: int | None,
    poll_interval: float,
    batch_size: int,
    overlap: float,
    feed_page_size: int,
    custompms_mode: str,
    from_now: bool,
    salesforce_objects: str,
) -> None:
    """Run the CDC producers until SIGINT/SIGTERM, then flush and stop."""
    from connectors.cdc.runner import SYSTEMS, run_cdc
    from foundation.settings import get_settings

    options = _options(
        poll_interval_s=poll_interval,
        batch_size=batch_size,
        overlap_s=overlap,
        feed_page_size=feed_page_size,
        custompms_mode=custompms_mode,
        from_now=from_now,
        salesforce_objects=tuple(o.strip() for o in salesforce_objects.split(",") if o.strip()),
    )
    sources = SYSTEMS if source == "all" else (source,)
    settings = get_settings()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_cdc(settings, options, sources=sources, stop=stop, metrics_port=metrics_port)

    asyncio.run(main())


@cdc.command("snapshot")
@click.option(
    "--entity",
    required=True,
    help="Salesforce sObject (Task, Division, Organization) or Custompms resource "
    "(customer, project, task).",
)
@click.option("--source", type=click.Choice(["salesforce", "custompms"]), default=None)
@click.option("--batch-size", type=int, default=DEFAULTS.batch_size, show_default=True)
def snapshot(entity: str, source: str | None, batch_size: int) -> None:
    """Re-publish every live record of one entity as op r (streaming positions unchanged)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from connectors.cdc.runner import resolve_entity, run_snapshot
    from foundation.errors import ConfigError
    from foundation.settings import get_settings

    try:
        target = resolve_entity(entity, source)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--entity") from exc
    settings = get_settings()
    options = _options(batch_size=batch_size)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(f"{target.system} {target.entity}", total=None)

        def progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        async def main() -> int:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            return await run_snapshot(settings, target, options, progress=progress, stop=stop)

        done = asyncio.run(main())
        bar.update(task, completed=done, total=done)
    click.echo(f"{done} {target.system} {target.entity} records published as op r")


@cdc.command("positions")
def positions() -> None:
    """Show the stored source positions (where `cdc run` resumes)."""
    from rich.console import Console
    from rich.table import Table

    from connectors.cdc.positions import load_positions
    from foundation.kafka import topics as t
    from foundation.kafka.serde import TopicCodec, registry_client
    from foundation.settings import get_settings

    settings = get_settings()
    codec = TopicCodec(settings, registry_client(settings), t.SOURCE_POSITIONS)
    table = Table("source", "watermark", "last id", "seq", "snapshot done")
    for name, position in sorted(load_positions(settings, codec).items()):
        table.add_row(
            name,
            position.mark.stamp.isoformat() if position.mark else "",
            position.mark.id if position.mark else "",
            "" if position.seq is None else str(position.seq),
            "yes" if position.snapshot_done else "no",
        )
    console = Console()
    if not console.is_terminal:
        # Piped output gets room for whole ids and timestamps instead of "…".
        console = Console(width=max(console.width, 140))
    console.print(table)
