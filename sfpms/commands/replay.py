"""`sfpms replay`: re-run a flow over its change history, e.g. after a mapping change."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from types import FrameType

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from foundation.settings import get_settings
from sfpms.commands.mapping_file import effective_mapping, mapping_option


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no time zone; add Z or +00:00")
    return moment


@click.command()
@click.option("--flow", required=True, help="division_customer, organization_customer, ...")
@click.option(
    "--from-offset", type=int, default=None, help="Start at this offset in every partition."
)
@click.option(
    "--from-time", default=None, help="Start at the first change at or after this ISO time."
)
@click.option("--from-beginning", is_flag=True, help="Start at the oldest retained change.")
@click.option("--to-time", default=None, help="Stop at changes after this ISO time.")
@click.option(
    "--resume", is_flag=True, help="Continue an interrupted replay from its committed offsets."
)
@click.option("--dry-run", is_flag=True, help="Write nothing; print what would be written.")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Save the per-field diff as JSON lines.",
)
@mapping_option
def replay(
    flow: str,
    from_offset: int | None,
    from_time: str | None,
    from_beginning: bool,
    to_time: str | None,
    resume: bool,
    dry_run: bool,
    out_path: Path | None,
    mapping_path: Path | None,
) -> None:
    """Replay FLOW's changes through the mapping in effect (or --mapping NEW, e.g. with
    --dry-run to see what a changed file would write); writes only what differs."""
    from streams.core.rules import Rules
    from streams.engine.replay import Replay, ReplayRange, describe_active_members

    loaded = effective_mapping(mapping_path)
    FLOWS = loaded.flows
    if flow not in FLOWS:
        raise click.BadParameter(
            f"unknown flow; choose one of {', '.join(FLOWS)}", param_hint="--flow"
        )
    starts = [from_offset is not None, from_time is not None, from_beginning, resume]
    if sum(starts) != 1:
        raise click.UsageError(
            "give exactly one of --from-offset, --from-time, --from-beginning, --resume"
        )
    settings = get_settings()
    if describe_active_members(settings, flow):
        raise click.ClickException(
            f"another replay of {flow} is running (its consumer group has members)"
        )
    span = ReplayRange(
        from_beginning=from_beginning,
        from_offset=from_offset,
        from_time=_when(from_time),
        to_time=_when(to_time),
        resume=resume,
    )
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    console = Console(stderr=True)
    runner = Replay(settings, FLOWS[flow], Rules(FLOWS, settings.precedence))
    diff = out_path.open("w") if out_path else (sys.stdout if dry_run else None)
    console.print(f"mapping {loaded.source} (sha256 {loaded.digest})")
    columns = (
        TextColumn(f"replay {flow}{' (dry run)' if dry_run else ''}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("replay", total=None, rate="")

            def progress(done: int, total: int) -> None:
                speed = bar.tasks[0].speed or 0
                bar.update(task, completed=done, total=total, rate=f"{speed:,.0f} changes/s")

            summary = runner.run(
                span,
                dry_run=dry_run,
                diff_out=diff if dry_run or out_path else None,
                stop=stop,
                progress=progress,
            )
    finally:
        if out_path and diff is not None:
            diff.close()
    result = summary.as_dict()
    verb = "would be written" if dry_run else "written"
    console.print(
        f"{result['changes']} changes replayed; {result['records']} records, "
        f"{result['fields']} fields {verb} {dict(summary.by_action)}; "
        f"{result['skipped_creates']} creations left to the live engine; "
        f"{result['problems']} problems"
    )
    if summary.interrupted:
        console.print(
            "interrupted: run again with --resume to continue" if not dry_run else "interrupted"
        )
        raise SystemExit(130)
