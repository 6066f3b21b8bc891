"""`sfpms worker`: run one engine worker (Faust) in the foreground."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from foundation.settings import Settings, get_settings
from sfpms.commands.mapping_file import effective_mapping, mapping_option

if TYPE_CHECKING:
    from streams.mapping.table import Flow

log = logging.getLogger("sfpms.worker")


@click.command()
@click.option("--web-port", type=int, default=None, help="Faust web port on 127.0.0.1.")
@click.option("--loglevel", default="warning", show_default=True)
@click.option(
    "--instance-id",
    default=None,
    help="Static group member id; unique per worker, the same across its restarts "
    "[SFPMS_INSTANCE_ID; default <host>-worker-<web port>].",
)
@click.option(
    "--check-schemas/--no-check-schemas",
    default=True,
    show_default=True,
    help="Validate the mapping against Salesforce describe and the Custompms OpenAPI first.",
)
@mapping_option
def worker(
    web_port: int | None,
    loglevel: str,
    instance_id: str | None,
    check_schemas: bool,
    mapping_path: Path | None,
) -> None:
    """Join the engine's consumer group and sync; run several for more throughput."""
    import faust
    import mode.loop

    from foundation.kafka.admin import ensure_topics
    from foundation.kafka.topics import catalogue
    from foundation.logs import logging_config
    from foundation.settings import member_id
    from streams.core.rules import Rules
    from streams.engine.app import create_app
    from streams.engine.codecs import EngineCodecs
    from streams.mapping.avro import install

    mode.loop.use("uvloop")
    settings = get_settings()
    port = web_port or settings.worker_web_port
    member = member_id(settings, f"worker-{port}", instance_id)
    loaded = effective_mapping(mapping_path)
    log.info("mapping %s (sha256 %s): %s", loaded.source, loaded.digest, ", ".join(loaded.flows))
    if check_schemas:
        _check_live(settings, loaded.flows)
    install(loaded.flows.values())
    ensure_topics(settings, catalogue())
    codecs = EngineCodecs(settings)
    codecs.register_outputs()
    started = _first_start(settings, codecs)
    rules = Rules(
        loaded.flows,
        settings.precedence,
        existing_before=int(started.timestamp() * 1000),
        create_existing=settings.create_before_onboarding,
    )
    app = create_app(settings, rules, web_port=port, codecs=codecs, instance_id=member)
    if settings.engine_store == "rocksdb":
        _drop_state_ahead_of_changelog(settings, app)
    # Faust clears the root handlers when it starts and installs its own; give it ours, so
    # its log lines (and every traceback it logs) go through the redacting formatter too.
    worker_ = faust.Worker(
        app,
        loglevel=loglevel,
        logging_config=logging_config(loglevel),
        quiet=True,
        redirect_stdouts=False,
    )
    worker_.execute_from_commandline()


def _first_start(settings: Settings, codecs: Any) -> datetime:
    """When the sync first started (recorded now if never): records created earlier wait
    for `sfpms onboard` in flows whose existing_records is wait_for_onboarding."""
    from connectors.cdc.positions import ensure_first_start
    from foundation.kafka import topics as t
    from foundation.kafka.serde import TopicCodec

    codec = TopicCodec(settings, codecs.client, t.SOURCE_POSITIONS)
    started = ensure_first_start(settings, codec)
    if settings.create_before_onboarding:
        log.warning(
            "SFPMS_CREATE_BEFORE_ONBOARDING is on: records that predate the sync (first start "
            "%s) create their twins without onboarding",
            started.isoformat(),
        )
    return started


def _check_live(settings: Settings, flows: Mapping[str, Flow]) -> None:
    """Stop on a mapping error; log drift (picklist values the mapping does not know) as a
    warning: the sync starts and such values follow each row's policy."""
    from connectors.schemas_live import validate_against_live_schemas
    from foundation import metrics
    from foundation.errors import ConfigError

    try:
        warnings = validate_against_live_schemas(settings, flows)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    for finding in warnings:
        log.warning("mapping drift: %s", finding.text())
        # the series exists from the start (at 0), so the drift shows before any record
        metrics.MAPPING_UNKNOWN_VALUES.labels(finding.flow, finding.drifting or "").inc(0)


def _drop_state_ahead_of_changelog(settings: Settings, app: Any) -> None:
    """See streams/engine/state_guard.py."""
    from pathlib import Path

    from confluent_kafka import Consumer, TopicPartition

    from streams.engine.state_guard import drop_state_ahead_of_changelog

    changelogs = {
        name: table.changelog_topic.get_topic_name() for name, table in app.tables.items()
    }
    consumer = Consumer(settings.consumer_config(settings.topic("sfpms-state-guard")))
    try:

        def high_watermark(topic: str, partition: int) -> int:
            _low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=30
            )
            return int(high)

        drop_state_ahead_of_changelog(Path(app.conf.tabledir), changelogs, high_watermark)
    finally:
        consumer.close()
