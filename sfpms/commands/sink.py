"""`sfpms sink run`: apply write commands to Salesforce and/or Custompms."""

from __future__ import annotations

import asyncio

import click

from foundation.settings import get_settings


@click.group()
def sink() -> None:
    """Sink workers: apply the engine's write commands over HTTP."""


@sink.command("run")
@click.option(
    "--system",
    type=click.Choice(["salesforce", "custompms", "all"]),
    default="all",
    show_default=True,
)
@click.option(
    "--batch-size",
    type=int,
    default=None,
    help="Commands per batch [default: Salesforce 1000, Custompms 200].",
)
@click.option(
    "--linger-ms",
    type=int,
    default=None,
    help="How long to wait for a fuller batch (fewer API calls vs. latency) "
    "[default: Salesforce 1000, Custompms 250].",
)
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="Serve /metrics, /healthz, /readyz on SFPMS_METRICS_HOST.",
)
@click.option(
    "--instance-id",
    default=None,
    help="Static group member id, the same across restarts [default <host>-sink].",
)
def run(
    system: str,
    batch_size: int | None,
    linger_ms: int | None,
    metrics_port: int | None,
    instance_id: str | None,
) -> None:
    """Consume write topics and apply them until Ctrl-C."""
    import uvloop

    from connectors.sinks.health import sink_readiness
    from connectors.sinks.runner import run_sinks
    from foundation import metrics
    from foundation.settings import member_id

    settings = get_settings()
    systems = ("salesforce", "custompms") if system == "all" else (system,)
    if metrics_port:
        metrics.serve(
            metrics_port, settings.metrics_host, readiness=sink_readiness(settings, systems)
        )
    overrides: dict[str, float] = {}
    if batch_size is not None:
        overrides["batch_size"] = batch_size
    if linger_ms is not None:
        overrides["linger_s"] = linger_ms / 1000
    options = {s: settings.sinks.for_system(s).model_copy(update=overrides) for s in systems}
    uvloop.install()
    member = member_id(settings, "sink", instance_id)
    asyncio.run(run_sinks(settings, systems, options, instance_id=member))
