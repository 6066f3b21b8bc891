"""`sfpms up`: the whole embedded stack in the foreground; Ctrl-C stops all of it."""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from foundation.settings import Settings, get_settings
from sfpms.stack import (
    Component,
    components,
    demo_settings,
    report,
    start,
    state_file,
    write_state,
)

STATE_STYLE = {"up": "green", "starting": "yellow", "stopped": "red", "external": "blue"}
MAX_RESTARTS = 5


def _table(parts: list[Component]) -> Table:
    table = Table("component", "state", "url", "pid", "restarts", title="sfpms embedded stack")
    for row in report(parts):
        style = STATE_STYLE.get(row.state, "white")
        table.add_row(
            row.name, f"[{style}]{row.state}[/]", row.url, str(row.pid or "-"), str(row.restarts)
        )
    return table


@click.command()
@click.option(
    "--timeout",
    type=float,
    default=90.0,
    show_default=True,
    help="Start-up wait per component (s).",
)
def up(timeout: float) -> None:
    """Start broker, registry, emulators, CDC, engine, sinks and dashboard on 127.0.0.1."""
    from foundation.kafka.admin import ensure_topics
    from foundation.kafka.topics import catalogue

    configured = get_settings()
    settings = demo_settings(configured)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _registry_credentials(settings)
    console = Console()
    if settings is not configured:
        console.print(
            "embedded demo: records that predate the sync create their twins without "
            "`sfpms onboard` (set SFPMS_CREATE_BEFORE_ONBOARDING=false to try onboarding)"
        )
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    parts = components(settings)
    started: list[Component] = []
    try:
        for part in parts:
            if stop.is_set():
                return
            if part.host is not None:  # served by another component's process
                part.process = next(p.process for p in started if p.name == part.host)
                started.append(part)
                _wait_up(part, timeout, stop)
                continue
            console.print(f"starting {part.name} ...")
            start(part, settings)
            started.append(part)
            _wait_up(part, timeout, stop)
            if part.name == "broker" or (part is parts[0] and settings.kafka_bootstrap):
                ensure_topics(settings, catalogue())
        if settings.kafka_bootstrap and not any(p.name == "broker" for p in parts):
            ensure_topics(settings, catalogue())
        write_state(settings, started)
        console.print(_table(started))
        console.print(f"logs in {settings.data_dir / 'logs'}; Ctrl-C stops everything")
        with Live(_table(started), console=console, refresh_per_second=1) as live:
            while not stop.wait(1.0):
                _restart_dead(started, settings, console)
                live.update(_table(started))
    finally:
        for part in reversed(started):
            if part.host is not None:
                continue  # stops with its host
            console.print(f"stopping {part.name}")
            if part.process is not None:
                part.process.stop(grace=15)
        state_file(settings).unlink(missing_ok=True)
        console.print("stopped")


def _registry_credentials(settings: Settings) -> None:
    """Make the embedded registry's login before anything starts (README "Security"): the
    registry accepts it and every child, and any CLI run later, reads it from the data dir."""
    from foundation.local_credentials import ensure_local_credentials
    from foundation.logs import register_secrets

    if settings.schema_registry_url is None and not settings.schema_registry_user:
        ensure_local_credentials(settings.data_dir)
    credentials = settings.registry_credentials()
    if credentials is not None:
        register_secrets(credentials[1].get_secret_value())


def _wait_up(part: Component, timeout: float, stop: threading.Event) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop.is_set():
        state = part.state()
        if state == "up":
            return
        if state == "stopped":
            log = part.process.log_path if part.process else None
            raise click.ClickException(f"{part.name} exited during start; see {log}")
        time.sleep(0.2)
    if not stop.is_set():
        log = part.process.log_path if part.process else None
        raise click.ClickException(f"{part.name} did not come up in {timeout:.0f}s; see {log}")


def _restart_dead(parts: list[Component], settings: object, console: Console) -> None:
    from foundation.settings import Settings

    assert isinstance(settings, Settings)
    now = time.monotonic()
    for part in parts:
        if part.host is not None:
            # Follows its host: after a restart the host's new process serves it.
            part.process = next((p.process for p in parts if p.name == part.host), part.process)
            continue
        if part.process is None or part.process.alive() or part.restarts >= MAX_RESTARTS:
            continue
        if part.next_restart == 0.0:
            part.next_restart = now + 2**part.restarts
            console.print(f"[red]{part.name} exited; restarting in {2**part.restarts}s[/]")
        elif now >= part.next_restart:
            part.restarts += 1
            part.next_restart = 0.0
            part.process.stop()
            start(part, settings)
