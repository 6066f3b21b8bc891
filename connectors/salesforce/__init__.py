"""The Salesforce REST API client (async, httpx) and Salesforce value formats."""

from connectors.salesforce.bulk2 import PollPolicy
from connectors.salesforce.client import COLLECTION_LIMIT, SalesforceClient
from connectors.salesforce.errors import SalesforceApiError, SalesforceRetriableError
from connectors.salesforce.retry import RetryPolicy
from connectors.salesforce.types import (
    ApiUsage,
    BulkQueryJob,
    BulkResultPage,
    DeletedRecord,
    DeletedRecords,
    Identity,
    RecordIssue,
    RecordResult,
    UpdatedRecords,
    UpsertResult,
)

__all__ = [
    "COLLECTION_LIMIT",
    "ApiUsage",
    "BulkQueryJob",
    "BulkResultPage",
    "DeletedRecord",
    "DeletedRecords",
    "Identity",
    "PollPolicy",
    "RecordIssue",
    "RecordResult",
    "RetryPolicy",
    "SalesforceApiError",
    "SalesforceClient",
    "SalesforceRetriableError",
    "UpdatedRecords",
    "UpsertResult",
]
