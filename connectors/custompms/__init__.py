"""The Custompms API client used by the CDC producer and the sink worker."""

from __future__ import annotations

from connectors.custompms.client import CustompmsClient
from connectors.custompms.errors import (
    CustompmsAuthError,
    CustompmsFatalError,
    CustompmsRetriableError,
    NotFoundError,
    VersionMismatchError,
    item_error,
)
from connectors.custompms.retry import RetryPolicy
from connectors.custompms.types import (
    RESOURCES,
    BatchItemResult,
    BatchOperation,
    ChangesPage,
    ErrorDetail,
    FeedEntry,
    MalformedFeedEntry,
    Resource,
)

__all__ = [
    "RESOURCES",
    "BatchItemResult",
    "BatchOperation",
    "ChangesPage",
    "CustompmsAuthError",
    "CustompmsClient",
    "CustompmsFatalError",
    "CustompmsRetriableError",
    "ErrorDetail",
    "FeedEntry",
    "MalformedFeedEntry",
    "NotFoundError",
    "Resource",
    "RetryPolicy",
    "VersionMismatchError",
    "item_error",
]
