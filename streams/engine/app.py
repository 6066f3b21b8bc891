"""The Faust app: two agents and two tables, co-partitioned by key.

- `hubs` agent: Salesforce change topics, the inbox (Custompms changes re-keyed to their
  link) and sink results, all keyed by a Salesforce id; owns the `hubs` table.
- `routes` agent: Custompms change topics and link events, keyed by a Custompms id; owns the
  `routes` table.

All topics share one partition count and every producer partitions with murmur2, so
partition p of each input holds the same keys as partition p of the table changelogs, and
Faust assigns them to one worker together. Tables use `use_partitioner=True`, which lets
the agents process events in batches (`take_events`) while each table write still lands in
the partition of its key (see docs/architecture.md for the measured reasons).
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import faust

from foundation.kafka import topics as t
from foundation.settings import Settings
from streams.core.rules import Rules
from streams.core.step import State
from streams.engine import topology
from streams.engine.checkpoint import Checkpoint
from streams.engine.codecs import EngineCodecs
from streams.engine.health import add_health_pages
from streams.engine.output import OutputProducer
from streams.engine.processor import (
    Processor,
    Stores,
    decode_hub,
    decode_route,
    encode_hub,
    encode_route,
)
from streams.engine.topology import Consumed, Outgoing

log = logging.getLogger(__name__)

APP_NAME = t.ENGINE_APP


def app_id(settings: Settings) -> str:
    return settings.topic(APP_NAME)


class TableOverlay:
    """A StateStore over a Faust table of encoded states, holding the batch's changes.

    The changes are written to the Faust table only after the batch's outputs are flushed:
    a crash in between replays the batch against the old state and produces the outputs
    again (harmless: every write is idempotent), instead of finding new state that claims
    outputs which were never delivered."""

    def __init__(
        self,
        table: Any,
        encode: Callable[[Any], bytes],
        decode: Callable[[bytes], Any],
    ) -> None:
        self.table = table
        self.encode = encode
        self.decode = decode
        self.changes: dict[bytes, bytes | None] = {}

    def get(self, key: str) -> State:
        encoded = key.encode()
        if encoded in self.changes:
            raw = self.changes[encoded]
        else:
            value = self.table.get(encoded)
            raw = bytes(value) if value is not None else None
        return self.decode(raw) if raw is not None else None

    def put(self, key: str, state: State) -> None:
        self.changes[key.encode()] = self.encode(state) if state is not None else None

    def apply(self) -> None:
        for key, value in self.changes.items():
            if value is None:
                if key in self.table:
                    del self.table[key]
            else:
                self.table[key] = value
        self.changes.clear()

    def discard(self) -> None:
        """Forget the batch's changes (its outputs were not produced)."""
        self.changes.clear()


def _broker_url(settings: Settings) -> str:
    return ";".join(f"kafka://{host.strip()}" for host in settings.require_bootstrap().split(","))


def _credentials(settings: Settings) -> Any:
    protocol = (settings.kafka_security_protocol or "PLAINTEXT").upper()
    context = None
    if "SSL" in protocol:
        context = ssl.create_default_context(cafile=settings.kafka_ssl_ca_location)
        if settings.kafka_ssl_certificate_location:
            password = settings.kafka_ssl_key_password
            context.load_cert_chain(
                settings.kafka_ssl_certificate_location,
                settings.kafka_ssl_key_location,
                password.get_secret_value() if password else None,
            )
    if protocol.startswith("SASL"):
        password = settings.kafka_sasl_password
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=password.get_secret_value() if password else None,
            mechanism=settings.kafka_sasl_mechanism or "PLAIN",
            ssl_context=context,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def create_app(
    settings: Settings,
    rules: Rules,
    *,
    web_port: int | None = None,
    codecs: EngineCodecs | None = None,
    instance_id: str | None = None,
) -> faust.App:
    """Build the engine app with its agents and tables.

    `instance_id` makes the worker a static member of the consumer group: restarted with
    the same id, it takes its partitions back at once instead of waiting for the broker to
    expire the dead member (the embedded noida-db never does; see docs/brokers.md).
    """
    app = faust.App(
        app_id(settings),
        broker=_broker_url(settings),
        broker_credentials=_credentials(settings),
        store="sfpms-rocksdb://" if settings.engine_store == "rocksdb" else "memory://",
        datadir=str(settings.data_dir / "engine" / (instance_id or "worker")),
        # Bounded RocksDB memory: a worker's RSS must not grow with the link table.
        rocksdb_options={
            "block_cache_size": 16 * 1024**2,
            "block_cache_compressed_size": 0,
            "write_buffer_size": 2 * 1024**2,
            "max_write_buffer_number": 2,
        },
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        broker_session_timeout=6,
        # The rebalance timeout: how long a rebalance waits for a member that died without
        # leaving (SIGKILL). Faust defaults to 1000 s; noida-db then keeps the group
        # rebalancing that long. Batches take well under a second, so 30 s is ample.
        broker_max_poll_interval=30,
        broker_heartbeat_interval=1,
        broker_commit_interval=1.0,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_linger_ms=5,
        table_standby_replicas=0,
        # A broker that lost acknowledged changelog records (noida-db on SIGTERM, Kafka after
        # an unclean leader election) leaves the local state ahead of the changelog; Faust
        # would then crash the recovery for good. A running worker keeps its (newer) local
        # state; at start, `sfpms worker` rebuilds such partitions from the changelog
        # (streams/engine/state_guard.py).
        recovery_consistency_check=False,
        web_enabled=True,
        web_bind=settings.metrics_host,
        web_port=web_port or settings.worker_web_port,
        consumer_group_instance_id=instance_id,
        key_serializer="raw",
        value_serializer="raw",
    )
    if settings.producer_config().get("batch.num.messages") == 1:
        # One record per batch, as configured for librdkafka producers: the Tansu workaround
        # for its wrong end offsets, which Faust's table recovery reads (docs/brokers.md).
        app.conf.producer_max_batch_size = 1
    Path(app.conf.datadir).mkdir(parents=True, exist_ok=True)
    add_health_pages(app, settings)
    processor = Processor(codecs or EngineCodecs(settings), rules)
    app.conf.sfpms_processor = processor  # reachable for metrics

    def topic(*names: str) -> Any:
        return app.topic(*(settings.topic(n) for n in names), key_type=bytes, value_type=bytes)

    checkpoint = Checkpoint(OutputProducer(settings))

    hubs_table = app.Table(
        "hubs",
        key_type=bytes,
        value_type=bytes,
        use_partitioner=True,
        partitions=settings.partitions,
    )
    routes_table = app.Table(
        "routes",
        key_type=bytes,
        value_type=bytes,
        use_partitioner=True,
        partitions=settings.partitions,
    )
    hubs = TableOverlay(hubs_table, encode_hub, decode_hub)
    route_store = TableOverlay(routes_table, encode_route, decode_route)
    stores = Stores(hubs, route_store)
    prefix = settings.topic_prefix

    async def run(stream: Any, store: TableOverlay) -> None:
        async for batch in _batches(stream, settings):
            outgoing: list[Outgoing] = []
            for event in batch:
                message = event.message
                record = Consumed(
                    message.topic[len(prefix) :],
                    message.partition,
                    message.offset,
                    message.key,
                    message.value,
                    _headers(message.headers),
                )
                outgoing += processor.dispatch(record, stores)
            await checkpoint.commit(outgoing, store)

    @app.agent(topic(*topology.HUB_INPUTS), name="hubs")
    async def hub_agent(stream: Any) -> None:
        await run(stream, hubs)

    @app.agent(topic(*topology.ROUTE_INPUTS), name="routes")
    async def route_agent(stream: Any) -> None:
        await run(stream, route_store)

    return app


async def _batches(stream: Any, settings: Settings) -> AsyncIterator[Any]:
    taking = settings.engine
    async for batch in stream.take_events(taking.batch_max, within=taking.batch_within_s):
        yield batch


def _headers(raw: Any) -> Mapping[str, bytes]:
    if not raw:
        return {}
    if isinstance(raw, Mapping):
        return {str(k): bytes(v) for k, v in raw.items()}
    return {str(k): bytes(v) for k, v in raw}
