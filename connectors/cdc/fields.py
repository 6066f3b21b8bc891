"""Which fields the capture reads from an sObject: the entity schema's, as the org offers them."""

from __future__ import annotations

from connectors.cdc.convert import field_names
from connectors.salesforce import SalesforceClient
from foundation.errors import ConfigError


async def capture_fields(client: SalesforceClient, sobject: str) -> tuple[str, ...]:
    """The entity schema's fields that the org's describe of `sobject` offers (one call).

    Schema fields the org does not have (e.g. IsDeleted on Division) stay null; Id and
    SystemModstamp must be readable, or the capture cannot place a record."""
    described = await client.describe(sobject)
    offered = {f["name"].casefold() for f in described.get("fields", [])}
    missing = {"id", "systemmodstamp"} - offered
    if missing:
        raise ConfigError(
            f"Salesforce {sobject} does not show {', '.join(sorted(missing))} to the "
            "integration user; grant read access to it"
        )
    return tuple(f for f in field_names("salesforce", sobject) if f.casefold() in offered)
