"""Shared pieces of the benchmarks: a broker per run, the registry, envelopes, timing.

Benchmarks print figures; they never assert speed. Every server binds 127.0.0.1; every
process is stopped by PID; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

from foundation.kafka import topics as t
from foundation.kafka.admin import ensure_topics
from foundation.kafka.serde import TopicCodec, registry_client
from foundation.settings import BrokerEngine, Settings
from sfpms.embedded.broker import EmbeddedBroker, free_port
from sfpms.registry.app import Registry, create_registry_app
from sfpms.registry.log import KafkaLog
from tests.support.servers import ThreadedServer

PARTITIONS = 4


def _exit_on_sigterm(_signum: int, _frame: object) -> None:
    # `timeout` sends SIGTERM; exiting normally runs every `finally`, which stops the
    # broker and worker processes this benchmark started (by PID) instead of orphaning them.
    sys.exit(143)


signal.signal(signal.SIGTERM, _exit_on_sigterm)


@dataclass
class Bench:
    """A broker, a registry and settings for one benchmark run."""

    engine: BrokerEngine
    settings: Settings
    workdir: Path


@contextmanager
def bench_env(engine: BrokerEngine, label: str, partitions: int = PARTITIONS) -> Iterator[Bench]:
    """A fresh embedded broker and registry; torn down (by PID) afterwards, and its
    directory removed (set SFPMS_BENCH_KEEP=1 to keep it, logs included)."""
    workdir = Path(tempfile.mkdtemp(prefix=f"sfpms-bench-{label}-"))
    broker = EmbeddedBroker(engine, free_port(), workdir / "broker", workdir / "broker.log")
    broker.start(timeout=60)
    server = None
    try:
        base = Settings(
            kafka_bootstrap=broker.bootstrap,
            topic_prefix=f"{label}.",
            partitions=partitions,
            data_dir=workdir / "sfpms",
            broker_engine=engine,
        )
        ensure_topics(base, t.catalogue())
        server = ThreadedServer(create_registry_app(Registry(KafkaLog(base))))
        server.start()
        settings = base.model_copy(update={"schema_registry_url": server.url})
        yield Bench(engine, settings, workdir)
    finally:
        if server is not None:
            server.stop()
        broker.stop()
        if os.environ.get("SFPMS_BENCH_KEEP"):
            print(f"kept {workdir} (SFPMS_BENCH_KEEP is set)", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def task_envelope(
    record_id: str, subject: str, now: datetime, origin: str = "person"
) -> dict[str, Any]:
    """A Salesforce Task change envelope as CDC publishes it."""
    return {
        "op": "c",
        "before": None,
        "after": {
            "Id": record_id,
            "Subject": subject,
            "Status": "In Progress",
            "Priority": "High",
            "ActivityDate": None,
            "Description": "A benchmark task with a realistic amount of text in its description.",
            "OwnerId": "005000000000001AAA",
            "SystemModstamp": now,
            "CreatedDate": now,
            "LastModifiedDate": now,
        },
        "source": {
            "system": "salesforce",
            "entity": "Task",
            "id": record_id,
            "modstamp": now,
            "commit_ts": now,
            "origin": origin,
        },
        "ts_ms": now,
    }


def sf_id(i: int, prefix: str = "00T") -> str:
    return f"{prefix}{i:015d}"


def produce_envelopes(
    settings: Settings, topic: str, records: list[tuple[str, dict[str, Any]]]
) -> float:
    """Produce Avro records; returns seconds taken (acks=all, idempotent)."""
    codec = TopicCodec(settings, registry_client(settings), topic)
    encoded = [(k.encode(), codec.encode(v)) for k, v in records]
    producer = Producer(settings.producer_config())
    name = settings.topic(topic)
    started = time.perf_counter()
    for key, value in encoded:
        while True:
            try:
                producer.produce(name, key=key, value=value)
                break
            except BufferError:
                producer.poll(0.05)
    remaining = producer.flush(120)
    if remaining:
        raise RuntimeError(f"{remaining} records not delivered")
    return time.perf_counter() - started


def end_offsets(settings: Settings, topic: str) -> int:
    """Sum of end offsets of a catalogue topic."""
    consumer = Consumer(settings.consumer_config(settings.topic("bench-offsets")))
    try:
        name = settings.topic(topic)
        total = 0
        for p in range(settings.partitions):
            total += consumer.get_watermark_offsets(
                TopicPartition(name, p), timeout=10, cached=False
            )[1]
        return total
    finally:
        consumer.close()


class Counter:
    """Counts records arriving in a topic by consuming it (end offsets are wrong on Tansu
    for multi-record batches, so they cannot be used to count)."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self.consumer = Consumer(
            settings.consumer_config(settings.topic(f"bench-count-{time.monotonic_ns()}"))
        )
        self.consumer.subscribe([settings.topic(topic)])
        self.count = 0
        self.last_arrival = 0.0

    def wait(self, count: int, timeout: float) -> float | None:
        """Consume until `count` records arrived; the monotonic time the last one did."""
        deadline = time.monotonic() + timeout
        while self.count < count and time.monotonic() < deadline:
            for msg in self.consumer.consume(1000, 0.2):
                if msg.error() is None:
                    self.count += 1
                    self.last_arrival = time.monotonic()
        return self.last_arrival if self.count >= count else None

    def close(self) -> None:
        self.consumer.close()


def wait_for_count(settings: Settings, topic: str, count: int, timeout: float) -> float | None:
    """Wait until `count` records are in `topic`; returns the monotonic time of the last."""
    counter = Counter(settings, topic)
    try:
        return counter.wait(count, timeout)
    finally:
        counter.close()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(name: str, figures: dict[str, Any]) -> None:
    """Print one result line (human) and one JSON line (for docs/benchmarks.md)."""
    shown = ", ".join(
        f"{k}={v:,.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()
    )
    print(f"{name}: {shown}", flush=True)
    print("JSON " + json.dumps({"benchmark": name, **figures}), flush=True)


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"


def now() -> datetime:
    return datetime.now(UTC)
