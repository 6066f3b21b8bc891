"""Bounded reconciliation: every record of an sObject changed since a point, page by page.

Used where a change stream cannot vouch for itself (no valid replay id, an overflow
event): `queryAll` (deleted records included) on the (SystemModstamp, Id) keyset, so
records sharing a stamp are neither skipped nor read twice, whatever the page size.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from connectors.cdc.watermark import Cursor, poll_soql
from connectors.salesforce import SalesforceClient
from connectors.salesforce.formats import parse_datetime


async def changed_since(
    client: SalesforceClient,
    sobject: str,
    fields: tuple[str, ...],
    since: datetime | None,
    page_size: int,
) -> AsyncIterator[list[dict[str, Any]]]:
    """Pages of the records whose SystemModstamp is at or after `since` (None: every
    record), in (SystemModstamp, Id) order; one call per `page_size` records."""
    cursor = Cursor(since) if since is not None else None
    while True:
        soql = poll_soql(sobject, fields, cursor, page_size)
        page = [record async for record in client.query_all(soql)]
        if page:
            yield page
        if len(page) < page_size:
            return
        last = page[-1]
        cursor = Cursor(parse_datetime(str(last["SystemModstamp"])), str(last["Id"]))
