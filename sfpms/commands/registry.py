"""`sfpms registry`: run the embedded schema registry in the foreground."""

from __future__ import annotations

import click

from foundation.settings import get_settings


@click.command()
@click.option("--port", type=int, default=None, help="Port on 127.0.0.1 [SFPMS_REGISTRY_PORT].")
def registry(port: int | None) -> None:
    """Serve a Confluent-compatible schema registry, stored in the `_schemas` topic."""
    import uvicorn

    from sfpms.registry.app import Registry, create_registry_app
    from sfpms.registry.log import KafkaLog

    settings = get_settings()
    app = create_registry_app(Registry(KafkaLog(settings)))
    chosen = port or settings.registry_port
    click.echo(f"schema registry on http://127.0.0.1:{chosen} (topic {settings.topic('_schemas')})")
    uvicorn.run(
        app, host="127.0.0.1", port=chosen, log_level="warning", access_log=False, log_config=None
    )
