"""Create and describe topics with confluent-kafka's AdminClient."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from foundation.kafka.topics import TopicSpec
from foundation.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TopicState:
    """What the broker says about one catalogue topic."""

    spec: TopicSpec
    name: str
    exists: bool
    partitions: int
    expected_partitions: int


def _admin(settings: Settings):  # type: ignore[no-untyped-def]
    from confluent_kafka.admin import AdminClient

    return AdminClient(settings.kafka_client_config())


def ensure_topics(settings: Settings, specs: Iterable[TopicSpec]) -> list[str]:
    """Create the topics that are missing; return the names created. Idempotent.

    An existing topic with fewer partitions than the catalogue says is an error an operator
    must resolve (adding partitions moves keys and breaks per-record ordering).
    """
    from confluent_kafka.admin import NewTopic

    admin = _admin(settings)
    existing = admin.list_topics(timeout=15).topics
    wanted: list[NewTopic] = []
    for spec in specs:
        name = settings.topic(spec.name)
        partitions = spec.partitions or settings.partitions
        if name in existing:
            have = len(existing[name].partitions)
            if have != partitions:
                raise RuntimeError(
                    f"topic {name} has {have} partitions but the catalogue expects {partitions}; "
                    "recreate it or set SFPMS_PARTITIONS to match"
                )
            continue
        wanted.append(
            NewTopic(
                name,
                num_partitions=partitions,
                replication_factor=settings.replication_factor,
                config=spec.config(settings.retention_ms_for(spec.retention)),
            )
        )
    created: list[str] = []
    if not wanted:
        return created
    for name, future in admin.create_topics(wanted, operation_timeout=30).items():
        try:
            future.result()
            created.append(name)
        except Exception as exc:
            if "TOPIC_ALREADY_EXISTS" in str(exc) or "already exists" in str(exc):
                continue
            raise RuntimeError(f"could not create topic {name}: {exc}") from exc
    log.info("created %d topics", len(created))
    return created


def describe_topics(settings: Settings, specs: Iterable[TopicSpec]) -> list[TopicState]:
    """Existence and partition count of each catalogue topic."""
    admin = _admin(settings)
    existing = admin.list_topics(timeout=15).topics
    states = []
    for spec in specs:
        name = settings.topic(spec.name)
        meta = existing.get(name)
        states.append(
            TopicState(
                spec=spec,
                name=name,
                exists=meta is not None,
                partitions=len(meta.partitions) if meta is not None else 0,
                expected_partitions=spec.partitions or settings.partitions,
            )
        )
    return states
