"""`sfpms broker`: run the embedded Kafka-protocol broker in the foreground."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from foundation.settings import get_settings
from sfpms.embedded.broker import EmbeddedBroker


@click.command()
@click.option(
    "--engine",
    type=click.Choice(["noida-db", "tansu"]),
    default=None,
    help="noida-db (default, persists to disk) or tansu (memory only).",
)
@click.option("--port", type=int, default=None, help="Port on 127.0.0.1 [SFPMS_BROKER_PORT].")
def broker(engine: str | None, port: int | None) -> None:
    """Run the embedded broker on 127.0.0.1 until Ctrl-C; data in .sfpms/broker/."""
    settings = get_settings()
    chosen = engine or settings.broker_engine
    embedded = EmbeddedBroker(
        engine="tansu" if chosen == "tansu" else "noida-db",
        port=port or settings.broker_port,
        data_dir=settings.data_dir / "broker",
        log_path=settings.data_dir / "logs" / "broker.log",
    )
    embedded.start()
    click.echo(f"{chosen} broker on {embedded.bootstrap} (data {embedded.data_dir}); Ctrl-C stops")
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        while not stop.wait(0.5):
            if embedded.process is not None and not embedded.process.alive():
                raise click.ClickException(f"the broker exited; see {embedded.log_path}")
    finally:
        embedded.stop()
