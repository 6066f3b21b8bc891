"""`sfpms emulate salesforce`: serve the Salesforce emulator on 127.0.0.1."""

from __future__ import annotations

import socket
from pathlib import Path

import click

from foundation.settings import get_settings


@click.command(name="salesforce")
@click.option(
    "--port", type=int, default=None, help="Port (default SFPMS_SALESFORCE_EMULATOR_PORT)."
)
@click.option("--memory", is_flag=True, help="Keep data in memory only (nothing on disk).")
@click.option("--http", "plain_http", is_flag=True, help="Serve plain HTTP instead of HTTPS.")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the database and certificate live (default <SFPMS_DATA_DIR>/salesforce).",
)
@click.option("--seed/--no-seed", default=True, show_default=True, help="Load demo records.")
@click.option("--token-ttl", type=int, default=7200, show_default=True, help="Token lifetime, s.")
@click.option("--api-limit", type=int, default=100_000, show_default=True, help="Daily API calls.")
@click.option(
    "--api-limit-window-s",
    type=click.FloatRange(min=0.001),
    default=24 * 3600.0,
    show_default=True,
    help="Rolling window of the API limit, seconds (Salesforce: 24 hours).",
)
@click.option(
    "--custom-fields",
    "custom_fields_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="YAML/JSON file of custom fields to add (see docs/salesforce-emulator.md).",
)
@click.option(
    "--jwt-cert",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Connected app certificate (PEM) that JWT bearer assertions are checked against.",
)
@click.option(
    "--bulk-job-delay",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Seconds a Bulk API 2.0 query job takes to complete.",
)
@click.option(
    "--pubsub-port",
    type=click.IntRange(min=0),
    default=None,
    help="Also serve the Pub/Sub API (gRPC over TLS) on this port; 0 picks a free one. "
    "Unset: no Pub/Sub API.",
)
@click.option(
    "--event-retention-s",
    type=click.FloatRange(min=0),
    default=72 * 3600.0,
    show_default=True,
    help="How long change events stay replayable.",
)
@click.option(
    "--pubsub-keepalive-s",
    type=click.FloatRange(min=0.01),
    default=270.0,
    show_default=True,
    help="Keepalive interval of idle Subscribe streams.",
)
@click.option(
    "--event-delivery-limit",
    type=click.IntRange(min=0),
    default=50_000,
    show_default=True,
    help="Events delivered to subscribers per rolling 24 hours.",
)
def command(
    port: int | None,
    memory: bool,
    plain_http: bool,
    data_dir: Path | None,
    seed: bool,
    token_ttl: int,
    api_limit: int,
    api_limit_window_s: float,
    custom_fields_file: Path | None,
    jwt_cert: Path | None,
    bulk_job_delay: float,
    pubsub_port: int | None,
    event_retention_s: float,
    pubsub_keepalive_s: float,
    event_delivery_limit: int,
) -> None:
    """Run a Salesforce REST API emulator (HTTPS, self-signed certificate) in the foreground."""
    from emulators.common.serve import serve
    from emulators.salesforce.app import create_app
    from emulators.salesforce.config import SalesforceEmulatorConfig
    from emulators.salesforce.custom_fields import CustomFieldsError, load_custom_fields
    from emulators.salesforce.tls import ensure_certificate

    settings = get_settings()
    port = port or settings.salesforce_emulator_port
    directory = data_dir or settings.data_dir / "salesforce"
    scheme = "http" if plain_http else "https"
    try:
        custom_fields = load_custom_fields(custom_fields_file) if custom_fields_file else []
    except CustomFieldsError as exc:
        raise click.BadParameter(str(exc), param_hint="--custom-fields") from exc
    if plain_http and pubsub_port is not None:
        raise click.UsageError("the Pub/Sub API is TLS-only (as in Salesforce): drop --http")
    if pubsub_port == 0:
        pubsub_port = _free_port()
    certfile = keyfile = None
    if not plain_http:
        certfile, keyfile = ensure_certificate(directory)
        click.echo(f"TLS certificate: {certfile} (trust it with SFPMS_SALESFORCE_CA_BUNDLE)")
    config = SalesforceEmulatorConfig(
        db_path=None if memory else directory / "salesforce.db",
        token_ttl_s=token_ttl,
        api_daily_limit=api_limit,
        seed=seed,
        base_url=f"{scheme}://127.0.0.1:{port}",
        api_limit_window_s=api_limit_window_s,
        custom_fields=tuple(custom_fields),
        jwt_certificate=jwt_cert,
        bulk_job_delay_s=bulk_job_delay,
        pubsub_port=pubsub_port,
        pubsub_certfile=certfile,
        pubsub_keyfile=keyfile,
        pubsub_keepalive_s=pubsub_keepalive_s,
        event_retention_s=event_retention_s,
        event_delivery_limit=event_delivery_limit,
    )
    try:
        app = create_app(config)
    except ValueError as exc:  # an unusable --jwt-cert, or a custom field the catalog refuses
        raise click.ClickException(str(exc)) from exc
    if pubsub_port is not None:
        click.echo(f"Pub/Sub API (gRPC over TLS) on 127.0.0.1:{pubsub_port}")
    storage = "memory" if memory else str(directory / "salesforce.db")
    click.echo(f"Salesforce emulator on {scheme}://127.0.0.1:{port} (data: {storage})")
    serve(app, port, certfile=certfile, keyfile=keyfile)


def _free_port() -> int:
    """A free 127.0.0.1 port, chosen here so the banner can name it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
