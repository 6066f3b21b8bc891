"""`sfpms dashboard [--port P]`: the read-only web dashboard and /metrics on 127.0.0.1."""

from __future__ import annotations

import click

from foundation.settings import get_settings


@click.command()
@click.option(
    "--host",
    default=None,
    help="Address to bind [SFPMS_METRICS_HOST, 127.0.0.1]; 0.0.0.0 only inside a container. "
    "Off the loopback interface it needs SFPMS_DASHBOARD_TOKEN (16+ characters) and answers "
    "only to the Host names in SFPMS_DASHBOARD_ALLOWED_HOSTS.",
)
@click.option("--port", type=int, default=None, help="Default: SFPMS_DASHBOARD_PORT.")
@click.option(
    "--interval",
    type=click.FloatRange(0.5, 300),
    default=5.0,
    show_default=True,
    help="Seconds between offset polls.",
)
@click.option(
    "--history-minutes",
    type=click.FloatRange(1, 24 * 60),
    default=30.0,
    show_default=True,
    help="How much lag history the charts keep (in memory).",
)
def dashboard(host: str | None, port: int | None, interval: float, history_minutes: float) -> None:
    """Serve the dashboard (flows, lag, dead letters) and Prometheus /metrics until Ctrl-C."""
    import uvicorn

    from foundation.errors import ConfigError
    from sfpms.dashboard import create_app
    from sfpms.dashboard.auth import check_bind
    from sfpms.observe.sampler import SamplerOptions
    from sfpms.observe.tracker import TrackerOptions

    settings = get_settings()
    host = host or settings.metrics_host
    try:
        check_bind(host, settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    options = SamplerOptions(
        interval_s=interval,
        history_s=history_minutes * 60,
        # a partition counts as stopped after six silent polls (at least 30 s)
        tracker=TrackerOptions(stop_after_s=max(30.0, 6 * interval)),
    )
    app = create_app(settings, options=options, bind_host=host)
    bind_port = port or settings.dashboard_port
    click.echo(f"dashboard on http://{host}:{bind_port}/ (metrics at /metrics)")
    uvicorn.run(
        app, host=host, port=bind_port, log_level="warning", access_log=False, log_config=None
    )
