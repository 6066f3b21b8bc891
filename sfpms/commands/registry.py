"""`sfpms registry`: run the embedded schema registry in the foreground."""

from __future__ import annotations

import click

from foundation.settings import get_settings


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Off the loopback interface it needs configured credentials "
    "(SFPMS_SCHEMA_REGISTRY_USER / _PASSWORD).",
)
@click.option("--port", type=int, default=None, help="Port [SFPMS_REGISTRY_PORT].")
def registry(host: str, port: int | None) -> None:
    """Serve a Confluent-compatible schema registry, stored in the `_schemas` topic.

    Every request needs HTTP basic credentials: SFPMS_SCHEMA_REGISTRY_USER / _PASSWORD, or
    (on 127.0.0.1) the ones generated in <data dir>/registry/credentials.json, which the
    embedded stack's clients read.
    """
    import uvicorn

    from foundation.errors import ConfigError
    from foundation.health import Readiness, dependency_checks
    from foundation.local_credentials import credentials_path
    from foundation.logs import register_secrets
    from sfpms.registry.app import Registry, create_registry_app
    from sfpms.registry.auth import server_auth
    from sfpms.registry.log import KafkaLog

    settings = get_settings()
    try:
        auth = server_auth(settings, host)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    register_secrets(auth.password.get_secret_value())
    readiness = Readiness(dependency_checks(settings))
    app = create_registry_app(Registry(KafkaLog(settings)), readiness, auth=auth)
    chosen = port or settings.registry_port
    click.echo(f"schema registry on http://{host}:{chosen} (topic {settings.topic('_schemas')})")
    if settings.schema_registry_user:
        click.echo(f"  basic auth: user {auth.user} (SFPMS_SCHEMA_REGISTRY_USER / _PASSWORD)")
    else:
        where = credentials_path(settings.data_dir)
        click.echo(f"  basic auth: user {auth.user}, generated password in {where}")
    uvicorn.run(app, host=host, port=chosen, log_level="warning", access_log=False, log_config=None)
