"""Wire the CDC sources to their clients and producers, and run them until told to stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, Literal

from confluent_kafka.schema_registry import SchemaRegistryClient

from connectors.cdc.metrics import CdcMetrics
from connectors.cdc.pacing import failure_policy, log_failure, wait_or_stop
from connectors.cdc.positions import (
    FIRST_START_KEY,
    Position,
    ensure_first_start,
    load_positions,
)
from connectors.cdc.publisher import Publisher
from connectors.cdc.pubsub_source import PubSubSource
from connectors.cdc.scope import Condition, ScopeTagger, check_condition, conditions_of
from connectors.custompms import CustompmsClient
from connectors.salesforce import SalesforceClient
from foundation.entities import ENTITY_RESOURCE, RESOURCE_ENTITY
from foundation.errors import ConfigError, RetriableError
from foundation.health import Readiness, dependency_checks
from foundation.kafka import topics as t
from foundation.kafka.admin import ensure_topics
from foundation.kafka.serde import TopicCodec, registry_client
from foundation.settings import SALESFORCE_OBJECTS, CaptureSettings, Settings

log = logging.getLogger(__name__)

System = Literal["salesforce", "custompms"]
SYSTEMS: tuple[System, ...] = ("salesforce", "custompms")
Progress = Callable[[int, int | None], None]


def cdc_topics(system: str) -> list[str]:
    """The change topics one system's CDC publishes to (unprefixed)."""
    entities = t.SALESFORCE_OBJECTS if system == "salesforce" else t.CUSTOMPMS_RESOURCES
    return [t.changes_topic(system, entity) for entity in entities]


@dataclass(frozen=True, slots=True)
class EntityRef:
    """What `sfpms cdc snapshot --entity` names: a system and its entity spelling."""

    system: System
    entity: str


def resolve_entity(entity: str, source: str | None = None) -> EntityRef:
    """`Task`/`Division`/`Organization` -> Salesforce; `customer(s)`/`project(s)`/`task(s)` ->
    Custompms. `task` alone is Custompms and `Task` Salesforce; `source` settles it."""
    sf_names = {name.casefold(): name for name in SALESFORCE_OBJECTS}
    folded = entity.casefold()
    pms_entity = RESOURCE_ENTITY.get(folded, folded)
    if source == "salesforce":
        if folded in sf_names:
            return EntityRef("salesforce", sf_names[folded])
    elif source == "custompms":
        if pms_entity in ENTITY_RESOURCE:
            return EntityRef("custompms", pms_entity)
    elif entity in sf_names.values():
        return EntityRef("salesforce", entity)
    elif pms_entity in ENTITY_RESOURCE:
        return EntityRef("custompms", pms_entity)
    elif folded in sf_names:
        return EntityRef("salesforce", sf_names[folded])
    raise ConfigError(
        f"unknown CDC entity {entity!r}"
        + (f" for {source}" if source else "")
        + ": use a Salesforce sObject (Division, Organization, Task) or a Custompms resource "
        "(customer, project, task)"
    )


def use_mapping(settings: Settings) -> dict[str, tuple[Condition, ...]]:
    """Load the mapping in effect (SFPMS_MAPPING_FILE), make the entity schemas follow it
    (its custom fields), and return its Salesforce scope conditions by sObject."""
    from streams.mapping.avro import install
    from streams.mapping.loader import load_mapping

    flows = load_mapping(settings.mapping_file).flows
    install(flows.values())
    return conditions_of(flows.values())


def prepare_kafka(
    settings: Settings, systems: Sequence[str]
) -> tuple[SchemaRegistryClient, dict[str, Position]]:
    """Make sure the topics exist (a producer would otherwise auto-create them with one
    partition) and read the stored positions. Blocking."""
    wanted = {t.DEADLETTER, t.SOURCE_POSITIONS}
    for system in systems:
        wanted.update(cdc_topics(system))
    ensure_topics(settings, [spec for spec in t.catalogue() if spec.name in wanted])
    registry = registry_client(settings)
    codec = TopicCodec(settings, registry, t.SOURCE_POSITIONS)
    return registry, load_positions(settings, codec)


async def publisher_for(
    stack: AsyncExitStack,
    settings: Settings,
    registry: SchemaRegistryClient,
    metrics: CdcMetrics,
    options: CaptureSettings,
    system: str,
) -> Publisher:
    publisher = Publisher(
        settings, registry, metrics, system, flush_timeout_s=options.flush_timeout_s
    )
    stack.callback(publisher.close)
    await asyncio.to_thread(publisher.register, cdc_topics(system))
    return publisher


async def run_cdc(
    settings: Settings,
    options: CaptureSettings | None = None,
    *,
    sources: Sequence[str] = SYSTEMS,
    stop: asyncio.Event | None = None,
    metrics: CdcMetrics | None = None,
    metrics_port: int | None = None,
) -> None:
    """Run the CDC producers of `sources` until `stop` is set, then flush and return.

    If one source fails for good (a ConfigError such as refused credentials), the others are
    stopped cleanly and the error is raised.
    """
    from connectors.cdc.custompms_source import CustompmsSource
    from connectors.cdc.salesforce_source import SalesforceSource

    options = options or CaptureSettings()
    stop = stop or asyncio.Event()
    metrics = metrics or CdcMetrics()
    scope = use_mapping(settings)
    registry, positions = await asyncio.to_thread(prepare_kafka, settings, sources)
    if FIRST_START_KEY not in positions:  # records older than this predate the sync
        codec = TopicCodec(settings, registry, t.SOURCE_POSITIONS)
        await asyncio.to_thread(ensure_first_start, settings, codec)
    log.info("CDC starting (%s) with stored positions: %s", ", ".join(sources), sorted(positions))
    async with AsyncExitStack() as stack:
        if metrics_port is not None:
            readiness = Readiness(
                dependency_checks(
                    settings,
                    registry=True,
                    salesforce="salesforce" in sources,
                    custompms="custompms" in sources,
                )
            )
            stack.callback(metrics.serve(metrics_port, settings.metrics_host, readiness))
        loops: list[Coroutine[Any, Any, None]] = []
        if "salesforce" in sources:
            sf = await stack.enter_async_context(SalesforceClient(settings))
            if options.polled_objects():
                publisher = await publisher_for(
                    stack, settings, registry, metrics, options, "salesforce"
                )
                sf_source = SalesforceSource(
                    sf, publisher, metrics, options, positions, scope=scope
                )
                await ready(sf_source.prepare, "Salesforce polling start", options, stop)
                loops.append(sf_source.run(stop))
            if options.task_capture == "pubsub" and "Task" in options.salesforce_objects:
                # Its own publisher: a failed batch resets it without touching the polls'.
                streamed = await publisher_for(
                    stack, settings, registry, metrics, options, "salesforce"
                )
                task_source = await _pubsub_source(
                    stack, settings, sf, streamed, metrics, options, positions, stop, scope
                )
                loops.append(task_source.run(stop))
        if "custompms" in sources:
            pms = await stack.enter_async_context(CustompmsClient(settings))
            publisher = await publisher_for(
                stack, settings, registry, metrics, options, "custompms"
            )
            pms_source = CustompmsSource(
                pms, publisher, metrics, options, positions, settings.client_name
            )
            await ready(pms_source.prepare, "Custompms CDC start", options, stop)
            loops.append(pms_source.run(stop))
        await _run_all(loops, stop)
    log.info("CDC stopped; every published envelope was acknowledged")


async def _pubsub_source(
    stack: AsyncExitStack,
    settings: Settings,
    sf: SalesforceClient,
    publisher: Publisher,
    metrics: CdcMetrics,
    options: CaptureSettings,
    positions: dict[str, Position],
    stop: asyncio.Event,
    scope: Mapping[str, Sequence[Condition]],
) -> PubSubSource:
    """Task through Change Data Capture, on the REST client's OAuth session; each batch
    tagged with the Task flows' scope (Change Data Capture cannot filter)."""
    from connectors.salesforce.pubsub import PubSubClient, SessionCredentials

    pubsub = await stack.enter_async_context(
        PubSubClient(
            SessionCredentials(sf.session),
            ca_bundle=settings.salesforce_verify(),
            endpoint=settings.salesforce_pubsub(),
        )
    )
    tagger = ScopeTagger(sf, scope)
    source = PubSubSource(
        sf,
        pubsub,
        publisher,
        metrics,
        options,
        positions,
        client_name=settings.client_name,
        scope=tagger.tag if tagger.limits("Task") else None,
    )

    async def prepare() -> None:
        await source.prepare()
        for condition in scope.get("Task", ()):
            problem = await check_condition(sf, condition)
            if problem is not None:  # a condition refused now would stall every batch
                raise ConfigError(f"{condition.where or 'the mapping file'}: {problem}")

    await ready(prepare, "Salesforce Change Data Capture start", options, stop)
    return source


async def ready(
    prepare: Callable[[], Awaitable[None]], what: str, options: CaptureSettings, stop: asyncio.Event
) -> None:
    """Run a source's start-up, retrying transient failures (an API that is down, a token
    refused, an API budget pause) with the capture's backoff: the process stays up, says what
    is wrong, and goes on by itself once it is fixed. A ConfigError (a setting to change)
    still stops it."""
    policy = failure_policy(options.poll_interval_s, options.max_backoff_s)
    failures = 0
    while not stop.is_set():
        try:
            await prepare()
            return
        except RetriableError as exc:
            failures += 1
            delay = policy.delay(failures, exc.retry_after)
            log_failure(log, what, exc, delay)
            await wait_or_stop(stop, delay)


async def _run_all(loops: Sequence[Awaitable[None]], stop: asyncio.Event) -> None:
    async def guarded(loop: Awaitable[None]) -> None:
        try:
            await loop
        except BaseException:
            stop.set()  # let the other sources finish their cycle and flush
            raise

    results = await asyncio.gather(*(guarded(loop) for loop in loops), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def run_snapshot(
    settings: Settings,
    target: EntityRef,
    options: CaptureSettings | None = None,
    *,
    progress: Progress | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Re-publish every live record of one entity as op r; returns how many.

    Streaming positions are left alone: a running `sfpms cdc run` goes on where it was.
    """
    from connectors.cdc.custompms_source import CustompmsSource
    from connectors.cdc.salesforce_source import SalesforceSource

    options = options or CaptureSettings()
    metrics = CdcMetrics()
    scope = use_mapping(settings)
    registry, positions = await asyncio.to_thread(prepare_kafka, settings, [target.system])
    async with AsyncExitStack() as stack:
        publisher = await publisher_for(stack, settings, registry, metrics, options, target.system)
        if target.system == "salesforce":
            sf = await stack.enter_async_context(SalesforceClient(settings))
            sf_source = SalesforceSource(
                sf, publisher, metrics, options, positions, objects=(target.entity,), scope=scope
            )
            await sf_source.prepare()
            return await sf_source.snapshot(
                target.entity, stop=stop, progress=progress, store_position=False
            )
        pms = await stack.enter_async_context(CustompmsClient(settings))
        pms_source = CustompmsSource(
            pms, publisher, metrics, options, positions, settings.client_name
        )
        return await pms_source.snapshot(target.entity, stop=stop, progress=progress)
