"""Check a mapping against the live systems (I/O only; the checks are streams.mapping.validate).

Salesforce: `describe` of every sObject a flow uses, and each flow's scope condition run as
a one-row query; Custompms: its OpenAPI document (`/openapi.json` next to the API base).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.cdc.scope import check_condition, conditions_of
from connectors.salesforce.client import SalesforceClient
from foundation.errors import ConfigError
from foundation.settings import Settings
from streams.mapping.table import Flow
from streams.mapping.validate import Finding, check_flow


@dataclass(frozen=True, slots=True)
class LiveSchemas:
    """What the live systems say: describes by sObject, the OpenAPI document, and the
    scope conditions Salesforce refused (as findings)."""

    describes: dict[str, Any]
    openapi: dict[str, Any]
    scope_errors: tuple[Finding, ...] = ()


async def fetch_live_schemas(
    settings: Settings, flows: Iterable[Flow]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """({sObject: describe}, Custompms OpenAPI document)."""
    live = await fetch_live(settings, list(flows))
    return live.describes, live.openapi


async def fetch_live(settings: Settings, flows: list[Flow]) -> LiveSchemas:
    """Describes, the OpenAPI document and the scope conditions checked by Salesforce."""
    objects = sorted({flow.sf_object for flow in flows})
    scope_errors: list[Finding] = []
    async with SalesforceClient(settings) as sf:
        describes = {name: await sf.describe(name) for name in objects}
        for conditions in conditions_of(flows).values():
            for condition in conditions:
                problem = await check_condition(sf, condition)
                if problem is not None:
                    finding = Finding("error", condition.flow, "scope", condition.where, problem)
                    scope_errors.append(finding)
    base = settings.custompms_base_url().rstrip("/")
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(f"{base}/openapi.json")
        response.raise_for_status()
        openapi = response.json()
    return LiveSchemas(describes, openapi, tuple(scope_errors))


def check_against_live(settings: Settings, flows: Mapping[str, Flow]) -> list[Finding]:
    """Every finding (errors and warnings) of `flows` against the live systems."""
    live = asyncio.run(fetch_live(settings, list(flows.values())))
    found = [f for flow in flows.values() for f in check_flow(flow, live.describes, live.openapi)]
    return [*found, *live.scope_errors]


def validate_against_live_schemas(settings: Settings, flows: Mapping[str, Flow]) -> list[Finding]:
    """Raise ConfigError naming every row the live systems disagree with; return the
    warnings (drift the sync handles by each row's policy)."""
    findings = check_against_live(settings, flows)
    errors = [f for f in findings if f.level == "error"]
    if errors:
        raise ConfigError(
            "the mapping does not fit the live schemas; fix these rows of the mapping file "
            "(or the schema):\n  - " + "\n  - ".join(f.text() for f in errors)
        )
    return [f for f in findings if f.level == "warning"]


# -- schema registry ------------------------------------------------------------------------

#: What to do when a mapping change would break a change topic's schema.
INCOMPATIBLE_FIX = (
    "keep each field's type: to change one, add a row for a new field (e.g. Region2__c or "
    "custom_fields.region2) and remove the old row; or, once no consumer needs the old "
    "records, set the subject's compatibility to NONE in the registry, register, and set it "
    "back to BACKWARD"
)


def change_topics() -> list[str]:
    """Every change topic (unprefixed) whose value schema carries entity records."""
    from foundation.kafka import topics as t

    return [
        t.changes_topic(system, entity)
        for system, entities in (
            ("salesforce", t.SALESFORCE_OBJECTS),
            ("custompms", t.CUSTOMPMS_RESOURCES),
        )
        for entity in entities
    ]


def check_registry(settings: Settings, flows: Mapping[str, Flow]) -> list[Finding]:
    """The change-envelope schemas `flows` generate, tested against the registered ones:
    an error per topic whose new schema the registry would refuse. A subject not yet
    registered is fine (the first schema is always accepted)."""
    from foundation.kafka.schemas import schema_for_topic, schema_str
    from streams.mapping.avro import installed_for

    conf = settings.registry_client_config()
    auth = None
    if "basic.auth.user.info" in conf:
        user, _, secret = str(conf["basic.auth.user.info"]).partition(":")
        auth = httpx.BasicAuth(user, secret)
    findings: list[Finding] = []
    with installed_for(flows.values()), httpx.Client(timeout=15, auth=auth) as client:
        for topic in change_topics():
            subject = f"{settings.topic(topic)}-value"
            response = client.post(
                f"{str(conf['url']).rstrip('/')}/compatibility/subjects/{subject}/versions/latest",
                params={"verbose": "true"},
                json={"schema": schema_str(schema_for_topic(topic)), "schemaType": "AVRO"},
            )
            if response.status_code == 404:
                continue
            response.raise_for_status()
            body = response.json()
            if body.get("is_compatible", True):
                continue
            details = "; ".join(body.get("messages") or []) or "incompatible"
            findings.append(
                Finding(
                    "error",
                    "(schema registry)",
                    f"topic {topic}",
                    "",
                    f"the change-envelope schema this mapping generates is incompatible with "
                    f"the registered one ({details}); {INCOMPATIBLE_FIX}",
                )
            )
    return findings
