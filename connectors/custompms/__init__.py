"""The Custompms API client used by the CDC producer and the sink worker."""

from __future__ import annotations

from connectors.custompms.client import CustompmsClient
from connectors.custompms.errors import (
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
    Change,
    ChangesPage,
    ErrorDetail,
    Resource,
)

__all__ = [
    "RESOURCES",
    "BatchItemResult",
    "BatchOperation",
    "Change",
    "ChangesPage",
    "CustompmsClient",
    "CustompmsFatalError",
    "CustompmsRetriableError",
    "ErrorDetail",
    "NotFoundError",
    "Resource",
    "RetryPolicy",
    "VersionMismatchError",
    "item_error",
]
