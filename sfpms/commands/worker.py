"""`sfpms worker`: run one engine worker (Faust) in the foreground."""

from __future__ import annotations

import click

from sfpms.settings import get_settings


@click.command()
@click.option("--web-port", type=int, default=None, help="Faust web port on 127.0.0.1.")
@click.option("--loglevel", default="warning", show_default=True)
def worker(web_port: int | None, loglevel: str) -> None:
    """Join the engine's consumer group and sync; run several for more throughput."""
    import faust
    import mode.loop

    from sfpms.kafka.admin import ensure_topics
    from sfpms.kafka.topics import catalogue
    from streams.core.decide import Rules
    from streams.engine.app import create_app
    from streams.engine.codecs import EngineCodecs
    from streams.mapping.flows import FLOWS

    mode.loop.use("uvloop")
    settings = get_settings()
    ensure_topics(settings, catalogue())
    codecs = EngineCodecs(settings)
    codecs.register_outputs()
    app = create_app(settings, Rules(FLOWS, settings.precedence), web_port=web_port, codecs=codecs)
    worker_ = faust.Worker(app, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    worker_.execute_from_commandline()
