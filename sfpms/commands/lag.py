"""`sfpms lag [--json] [--group G]`: consumer lag per group, partition and business flow."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from foundation.settings import get_settings
from sfpms.observe.model import LagReport

_STATUS_STYLE = {
    "OK": "green",
    "WARN": "yellow",
    "NOTFOUND": "dim",
}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable: every figure as JSON.")
@click.option(
    "--group",
    "groups",
    multiple=True,
    help="Only this consumer group (repeatable). Default: the product's groups.",
)
@click.option(
    "--samples",
    type=click.IntRange(1, 120),
    default=1,
    show_default=True,
    help="Poll this many times; 2+ gives Burrow's trend rules a window.",
)
@click.option(
    "--interval",
    type=click.FloatRange(0.1, 60),
    default=1.0,
    show_default=True,
    help="Seconds between samples.",
)
@click.option("--lagging", is_flag=True, help="List only partitions with lag or a bad status.")
def lag(
    as_json: bool, groups: tuple[str, ...], samples: int, interval: float, lagging: bool
) -> None:
    """Committed offset, end offset, lag (messages and seconds) and Burrow status."""
    from sfpms.observe.oneshot import measure

    settings = get_settings()
    try:
        report = measure(settings, groups, samples=samples, interval_s=interval)
    except Exception as exc:
        raise click.ClickException(
            f"cannot read offsets from the broker at {settings.require_bootstrap()}: {exc}; "
            "start the stack with `sfpms up` or set SFPMS_KAFKA_BOOTSTRAP"
        ) from exc
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    _print(report, samples, lagging)


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _status(name: str) -> str:
    return f"[{_STATUS_STYLE.get(name, 'bold red')}]{name}[/]"


def _print(report: LagReport, samples: int, lagging: bool) -> None:
    console = Console()
    for group in report.groups:
        table = Table(
            "topic", "part", "committed", "end", "lag", "lag s", "from", "status", "owner",
            title=(
                f"{group.group}  {_status(group.status.name)}  "
                f"{group.state.lower()}, {group.members} member(s), lag {group.sum_lag}"
            ),
            title_justify="left",
        )  # fmt: skip
        for row in group.partitions:
            if lagging and row.lag == 0 and row.status.name in ("OK", "NOTFOUND"):
                continue
            table.add_row(
                row.topic,
                str(row.partition),
                "-" if row.committed is None else str(row.committed),
                str(row.end),
                str(row.lag),
                _seconds(row.lag_seconds),
                row.lag_seconds_method.value,
                _status(row.status.name) + ("" if row.complete else "*"),
                row.owner.client_id or row.owner.member_host or "-",
            )
        console.print(table)
    flows = Table(
        "flow", "lag", "lag s", "status", "p50 s", "p95 s", "p99 s",
        title="flows (engine + sink lag)", title_justify="left",
    )  # fmt: skip
    for flow in report.flows:
        lat = flow.latency
        flows.add_row(
            flow.flow,
            str(flow.lag),
            _seconds(flow.lag_seconds),
            _status(flow.status.name),
            _seconds(lat.p50) if lat else "n/a",
            _seconds(lat.p95) if lat else "n/a",
            _seconds(lat.p99) if lat else "n/a",
        )
    console.print(flows)
    dlq = "n/a" if report.dlq_size is None else f"{report.dlq_size} message(s)"
    console.print(f"dead-letter topic: {dlq}")
    console.print(f"latency from: {report.latency_source}")
    if samples < 2:
        console.print(
            "[dim]* status from a one-sample window: use --samples 5 for Burrow's trend "
            "rules. lag s 'record' = CreateTime of the record at the committed offset.[/]"
        )
