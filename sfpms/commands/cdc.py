"""`sfpms cdc run|snapshot|positions`: the change-data-capture producers (docs/cdc.md).

`sfpms backfill --flow F` (sfpms/commands/backfill.py) re-publishes a whole flow, resumably."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import click
from pydantic import ValidationError

from foundation.settings import CaptureSettings, Settings

SOURCES = ("salesforce", "custompms", "all")


def _options(settings: Settings, **given: Any) -> CaptureSettings:
    """The capture section of the settings with the flags that were given on top."""
    values = {k: v for k, v in given.items() if v is not None}
    try:
        return CaptureSettings.model_validate({**settings.capture.model_dump(), **values})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise click.BadParameter(problems) from exc


@click.group()
def cdc() -> None:
    """Publish every change in Salesforce and Custompms to Kafka as change envelopes."""


@cdc.command("run")
@click.option("--source", type=click.Choice(SOURCES), default="all", show_default=True)
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="Serve /metrics, /healthz, /readyz on SFPMS_METRICS_HOST.",
)
@click.option(
    "--poll-interval",
    type=float,
    default=None,
    help="Seconds between polls when idle [default: SFPMS_CAPTURE__POLL_INTERVAL_S or 5].",
)
@click.option(
    "--batch-size",
    type=int,
    default=None,
    help="SOQL LIMIT per Salesforce poll query [default: 2000].",
)
@click.option(
    "--overlap",
    type=float,
    default=None,
    help="Seconds re-read before the Salesforce watermark (clock skew) [default: 2].",
)
@click.option("--feed-page-size", type=int, default=None, help="[default: 500]")
@click.option(
    "--custompms-mode",
    type=click.Choice(["auto", "feed", "poll"]),
    default=None,
    help="Tail the change feed, poll updated_since, or feed unless the API lacks one "
    "[default: auto].",
)
@click.option(
    "--from-now",
    is_flag=True,
    default=None,
    help="With no stored feed position, start at the head of the feed (not at seq 0).",
)
@click.option(
    "--salesforce-objects",
    default=None,
    help="Comma-separated sObjects to capture (an org without divisions: Organization,Task) "
    "[default: Division,Organization,Task].",
)
@click.option(
    "--task-capture",
    type=click.Choice(["pubsub", "poll"]),
    default=None,
    help="Salesforce Task through Change Data Capture (Pub/Sub API) or SOQL polling "
    "[default: pubsub].",
)
@click.option(
    "--idle-poll-interval",
    type=float,
    default=None,
    help="Longest pause between polls of an idle sObject; the pause doubles from "
    "--poll-interval after each poll that finds nothing [default: 180].",
)
@click.option(
    "--sweep-interval",
    type=float,
    default=None,
    help="Seconds between reconciliation sweeps of the polled sObjects [default: 300].",
)
@click.option(
    "--sweep-lookback",
    type=float,
    default=None,
    help="Seconds a sweep re-reads before the watermark [default: 900].",
)
@click.option(
    "--bulk-threshold",
    type=int,
    default=None,
    help="First loads read through Bulk API 2.0 from this many records on [default: 10000].",
)
def run(
    source: str,
    metrics_port: int | None,
    poll_interval: float | None,
    batch_size: int | None,
    overlap: float | None,
    feed_page_size: int | None,
    custompms_mode: str | None,
    from_now: bool | None,
    salesforce_objects: str | None,
    task_capture: str | None,
    idle_poll_interval: float | None,
    sweep_interval: float | None,
    sweep_lookback: float | None,
    bulk_threshold: int | None,
) -> None:
    """Run the CDC producers until SIGINT/SIGTERM, then flush and stop."""
    from connectors.cdc.runner import SYSTEMS, run_cdc
    from foundation.settings import get_settings

    settings = get_settings()
    objects = None
    if salesforce_objects is not None:
        objects = tuple(o.strip() for o in salesforce_objects.split(",") if o.strip())
    options = _options(
        settings,
        poll_interval_s=poll_interval,
        batch_size=batch_size,
        overlap_s=overlap,
        feed_page_size=feed_page_size,
        custompms_mode=custompms_mode,
        from_now=from_now or None,
        salesforce_objects=objects,
        task_capture=task_capture,
        idle_poll_interval_s=idle_poll_interval,
        sweep_interval_s=sweep_interval,
        sweep_lookback_s=sweep_lookback,
        bulk_threshold=bulk_threshold,
    )
    sources = SYSTEMS if source == "all" else (source,)

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
@click.option("--batch-size", type=int, default=None, help="[default: 2000]")
def snapshot(entity: str, source: str | None, batch_size: int | None) -> None:
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
    options = _options(settings, batch_size=batch_size)
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
    table = Table("source", "watermark", "last id", "seq", "snapshot done", "replay id")
    for name, position in sorted(load_positions(settings, codec).items()):
        table.add_row(
            name,
            position.mark.stamp.isoformat() if position.mark else "",
            position.mark.id if position.mark else "",
            "" if position.seq is None else str(position.seq),
            "yes" if position.snapshot_done else "no",
            position.replay_id.hex() if position.replay_id else "",
        )
    console = Console()
    if not console.is_terminal:
        # Piped output gets room for whole ids and timestamps instead of "…".
        console = Console(width=max(console.width, 140))
    console.print(table)
