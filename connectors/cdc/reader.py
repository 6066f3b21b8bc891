"""Read every live record of an sObject or resource as the capture sees it, publishing nothing.

`sfpms onboard` uses this to see both systems exactly as the engine will: the same fields
(the entity schema, as far as the org offers them), the same SOQL snapshot pages, the same
scope tags (`connectors/cdc/scope.py`) and the same conversion to entity records
(`connectors/cdc/convert.py`). A record that does not convert is returned with its error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.cdc.convert import EnvelopeError, convert_record
from connectors.cdc.scope import ScopeTagger
from connectors.cdc.watermark import snapshot_soql
from connectors.custompms import CustompmsClient
from connectors.salesforce import SalesforceClient
from foundation.entities import ENTITY_RESOURCE


@dataclass(frozen=True, slots=True)
class Captured:
    """One record: the API's JSON, the entity record it converts to (None if it does not),
    and its scope tags (Salesforce)."""

    raw: Mapping[str, Any]
    record: Mapping[str, Any] | None
    tags: Mapping[str, bool] = field(default_factory=dict)
    error: str | None = None

    @property
    def id(self) -> str:
        return str(self.raw.get("Id") or self.raw.get("id"))


def _convert(system: str, entity: str, raw: Mapping[str, Any]) -> tuple[Any, str | None]:
    try:
        return convert_record(system, entity, raw), None
    except EnvelopeError as exc:
        return None, exc.describe()


async def salesforce_pages(
    client: SalesforceClient,
    sobject: str,
    fields: tuple[str, ...],
    tagger: ScopeTagger,
    page_size: int = 2000,
) -> AsyncIterator[list[Captured]]:
    """Every live record of `sobject`, a snapshot page at a time, tagged with its scope."""
    after_id: str | None = None
    while True:
        soql = snapshot_soql(sobject, fields, after_id, page_size)
        page = [raw async for raw in client.query(soql)]
        tags = await tagger.tag(sobject, [str(raw["Id"]) for raw in page])
        captured = []
        for raw in page:
            record, error = _convert("salesforce", sobject, raw)
            captured.append(Captured(raw, record, tags.get(str(raw["Id"]), {}), error))
        if captured:
            yield captured
        if len(page) < page_size:
            return
        after_id = str(page[-1]["Id"])


async def custompms_records(client: CustompmsClient, entity: str) -> AsyncIterator[Captured]:
    """Every live record of a Custompms resource (`entity`: customer, project, task)."""
    async for raw in client.list(ENTITY_RESOURCE[entity], limit=1000):
        record, error = _convert("custompms", entity, raw)
        yield Captured(raw, record, {}, error)
