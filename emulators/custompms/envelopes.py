"""The envelopes around records: errors, list pages, batches and the change feed."""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from emulators.custompms.config import MAX_BATCH_OPERATIONS, MAX_IDEMPOTENCY_KEY_LENGTH
from emulators.custompms.models import Customer, Project, Task, Timestamp

R = TypeVar("R", bound=BaseModel)


class OriginalResult(BaseModel):
    status: int = Field(description="The status the original request got (201).")
    id: str = Field(description="The record the original request created.")
    version: int = Field(ge=1, description="That record's version right after its creation.")


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. version_mismatch.")
    message: str = Field(description="What went wrong and what to do, for a human.")
    field: str | None = Field(description="The field, parameter or header at fault, if one.")
    current_version: int | None = Field(
        None, ge=1, description="version_mismatch only: the record's current version."
    )
    original: OriginalResult | None = Field(
        None, description="idempotency_key_reused only: what the key's first request created."
    )


class ErrorResponse(BaseModel):
    error: ErrorDetail


class Page(BaseModel, Generic[R]):
    items: list[R]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end.")

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        return f"{params[0].__name__}Page"


def _integral(value: Any) -> Any:
    # JSON has one number type: 3.0 is the integer 3 (as JSON Schema says), even in strict mode.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class BatchOperation(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    op: Literal["create", "update", "delete"]
    id: str | None = Field(None, max_length=32, description="Required for update and delete.")
    data: dict[str, Any] | None = Field(
        None, description="The record (create) or the partial update (update)."
    )
    if_match: Annotated[int, Field(ge=1), BeforeValidator(_integral)] | None = Field(
        None, description="Expected version (update, delete)."
    )
    idempotency_key: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY_LENGTH,
        description="Create only; same guarantee as the Idempotency-Key header.",
    )
    cascade: bool = Field(False, description="Delete only; also delete dependents.")


class BatchRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    operations: list[BatchOperation] = Field(max_length=MAX_BATCH_OPERATIONS)


class BatchItemResult(BaseModel, Generic[R]):
    index: int = Field(ge=0, description="Position of the operation in the request.")
    status: int = Field(description="The HTTP status this operation alone would have had.")
    record: R | None = Field(description="The record after a create or update.")
    error: ErrorDetail | None

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        return f"{params[0].__name__}BatchItemResult"


class BatchResponse(BaseModel, Generic[R]):
    results: list[BatchItemResult[R]]

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        return f"{params[0].__name__}BatchResponse"


class Change(BaseModel):
    seq: int = Field(ge=1, description="Global, gap-free, strictly increasing in commit order.")
    resource: Literal["customers", "projects", "tasks"]
    id: str
    op: Literal["create", "update", "delete"]
    version: int = Field(ge=1, description="The record's version after this change.")
    at: Timestamp
    actor: str = Field(description="Client name of the token that made the change.")
    record: Customer | Project | Task = Field(
        description="State after the change; for a delete, the last state before it."
    )


class ChangesPage(BaseModel):
    changes: list[Change]
    next: int = Field(ge=0, description="Pass as `after` to continue.")


class TokenGrant(BaseModel):
    """Admin: let `token` act as `client` (recorded as the actor of its changes)."""

    token: str = Field(min_length=8, max_length=200)
    client: str = Field(min_length=1, max_length=100)
