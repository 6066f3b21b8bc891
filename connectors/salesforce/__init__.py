"""The Salesforce REST API client (async, httpx) and Salesforce value formats."""

from connectors.salesforce.client import COLLECTION_LIMIT, SalesforceClient
from connectors.salesforce.errors import SalesforceApiError, SalesforceRetriableError
from connectors.salesforce.retry import RetryPolicy
from connectors.salesforce.types import (
    ApiUsage,
    DeletedRecord,
    DeletedRecords,
    Identity,
    RecordIssue,
    RecordResult,
    UpdatedRecords,
)

__all__ = [
    "COLLECTION_LIMIT",
    "ApiUsage",
    "DeletedRecord",
    "DeletedRecords",
    "Identity",
    "RecordIssue",
    "RecordResult",
    "RetryPolicy",
    "SalesforceApiError",
    "SalesforceClient",
    "SalesforceRetriableError",
    "UpdatedRecords",
]
