"""The records of the Custompms API: what clients send (create/patch) and what they get back.

Input models are strict (a string must be a string, a bool a bool) and forbid unknown fields,
so a client bug shows up as a 422 naming the field instead of silently stored data. Limits
are listed in docs/custompms-api.md; keep the two in step.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

from emulators.custompms.values import normalize_date, normalize_datetime

ProjectStatus = Literal["planned", "active", "on_hold", "completed", "cancelled"]
TaskStatus = Literal["todo", "in_progress", "blocked", "done"]
Priority = Literal["low", "medium", "high"]

TIMESTAMP_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


# Required text must contain a character other than ASCII white space (unanchored pattern),
# so "   " is no name. An explicit class, not `\S`: regex engines disagree on Unicode spaces.
NOT_BLANK = r"[^ \t\n\r\f\v]"
Name = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=NOT_BLANK)]
Kind = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=NOT_BLANK)]
IdRef = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=NOT_BLANK)]
Email = Annotated[str, StringConstraints(max_length=254)]
Phone = Annotated[str, StringConstraints(max_length=40)]
PersonName = Annotated[str, StringConstraints(max_length=255)]
Street = Annotated[str, StringConstraints(max_length=255)]
Place = Annotated[str, StringConstraints(max_length=120)]
PostalCode = Annotated[str, StringConstraints(max_length=20)]
Locale = Annotated[str, StringConstraints(max_length=35)]
TimeZone = Annotated[str, StringConstraints(max_length=64)]
LongText = Annotated[str, StringConstraints(max_length=32000)]

DateValue = Annotated[
    str,
    AfterValidator(normalize_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN}),
]
DateTimeValue = Annotated[
    str,
    AfterValidator(normalize_datetime),
    WithJsonSchema({"type": "string", "format": "date-time", "maxLength": 64}),
]
Timestamp = Annotated[
    str, WithJsonSchema({"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN})
]
DateOut = Annotated[
    str, WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN})
]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _optional() -> Any:
    """A patch field: may be left out, but not null (the field has no "empty" value)."""
    return Field(default=None, json_schema_extra=_no_default)


class _Input(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


# -- inputs -------------------------------------------------------------------------------


class AddressInput(_Input):
    """A postal address; on PATCH each given field replaces one field, null clears it."""

    street: Street | None = None
    city: Place | None = None
    state: Place | None = None
    postal_code: PostalCode | None = None
    country: Place | None = None


class CustomerCreate(_Input):
    name: Name
    kind: Kind = "company"
    active: bool = True
    email: Email | None = None
    phone: Phone | None = None
    fax: Phone | None = None
    contact_name: PersonName | None = None
    address: AddressInput | None = None
    locale: Locale | None = None
    time_zone: TimeZone | None = None
    notes: LongText | None = None


class CustomerPatch(_Input):
    name: Name = _optional()
    kind: Kind = _optional()
    active: bool = _optional()
    email: Email | None = None
    phone: Phone | None = None
    fax: Phone | None = None
    contact_name: PersonName | None = None
    address: AddressInput | None = None
    locale: Locale | None = None
    time_zone: TimeZone | None = None
    notes: LongText | None = None


class ProjectCreate(_Input):
    name: Name
    description: LongText | None = None
    status: ProjectStatus = "planned"
    priority: Priority = "medium"
    start_date: DateValue | None = None
    due_date: DateValue | None = None
    customer_id: IdRef | None = None
    owner: PersonName | None = None


class ProjectPatch(_Input):
    name: Name = _optional()
    description: LongText | None = None
    status: ProjectStatus = _optional()
    priority: Priority = _optional()
    start_date: DateValue | None = None
    due_date: DateValue | None = None
    customer_id: IdRef | None = None
    owner: PersonName | None = None


class TaskCreate(_Input):
    project_id: IdRef
    title: Name
    description: LongText | None = None
    status: TaskStatus = "todo"
    priority: Priority = "medium"
    due_date: DateValue | None = None
    assignee: PersonName | None = None
    completed_at: DateTimeValue | None = None


class TaskPatch(_Input):
    project_id: IdRef = _optional()
    title: Name = _optional()
    description: LongText | None = None
    status: TaskStatus = _optional()
    priority: Priority = _optional()
    due_date: DateValue | None = None
    assignee: PersonName | None = None
    completed_at: DateTimeValue | None = None


# -- records as returned --------------------------------------------------------------------


class Address(BaseModel):
    street: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    country: str | None


class _Record(BaseModel):
    id: str = Field(description="Resource prefix and sequence, e.g. cus_000001.")
    version: int = Field(ge=1, description="1 on create, +1 on every change (delete included).")
    created_at: Timestamp
    updated_at: Timestamp
    deleted_at: Timestamp | None = Field(description="Set only on tombstones (include_deleted).")


class Customer(_Record):
    name: str
    kind: str
    active: bool
    email: str | None
    phone: str | None
    fax: str | None
    contact_name: str | None
    address: Address
    locale: str | None
    time_zone: str | None
    notes: str | None


class Project(_Record):
    name: str
    description: str | None
    status: ProjectStatus
    priority: Priority
    start_date: DateOut | None
    due_date: DateOut | None
    customer_id: str | None
    owner: str | None


class Task(_Record):
    project_id: str
    title: str
    description: str | None
    status: TaskStatus
    priority: Priority
    due_date: DateOut | None
    assignee: str | None
    completed_at: Timestamp | None
