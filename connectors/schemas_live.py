"""Fetch the live schemas the mapping is validated against at start-up.

Salesforce: `describe` of every sObject a flow uses; Custompms: its OpenAPI document
(`/openapi.json` next to the API base). I/O only; the checks are streams.mapping.validate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from connectors.salesforce.client import SalesforceClient
from foundation.settings import Settings
from streams.mapping.table import Flow
from streams.mapping.validate import validate_all


async def fetch_live_schemas(
    settings: Settings, flows: Iterable[Flow]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """({sObject: describe}, Custompms OpenAPI document)."""
    objects = sorted({flow.sf_object for flow in flows})
    async with SalesforceClient(settings) as sf:
        describes = {name: await sf.describe(name) for name in objects}
    base = settings.custompms_base_url().rstrip("/")
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(f"{base}/openapi.json")
        response.raise_for_status()
        openapi = response.json()
    return describes, openapi


def validate_against_live_schemas(settings: Settings, flows: Mapping[str, Flow]) -> None:
    """Raise ConfigError naming every row the live systems disagree with."""
    describes, openapi = asyncio.run(fetch_live_schemas(settings, flows.values()))
    validate_all(describes, openapi, flows=flows.values())
