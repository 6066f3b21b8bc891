"""The sObjects the emulator serves, described as data: Task, Division, Organization, User.

Field names, types, lengths and properties follow Salesforce's object reference (API 60-67;
e.g. Organization supports describe, query, retrieve and update, and of its address fields
only Country lacks the Update property). The describe endpoint, the write validation and
the SOQL binder all read these tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

#: Field types whose values are text on the wire.
TEXT_TYPES = frozenset(
    {"string", "combobox", "picklist", "textarea", "phone", "email", "url", "id", "reference"}
)
ID_TYPES = frozenset({"id", "reference"})


@dataclass(frozen=True, slots=True)
class FieldDef:
    name: str
    type: str
    label: str
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted_on_create: bool = False
    default: Any = None
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    external_id: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    custom: bool = False
    unique: bool = False
    #: Number fields (`double`): total digits and digits after the decimal point.
    precision: int = 0
    scale: int = 0

    @property
    def required_on_create(self) -> bool:
        """Must a create supply a value (no default, not nillable, writable)?"""
        return (
            self.createable
            and not self.nillable
            and not self.defaulted_on_create
            and self.type != "boolean"
        )


@dataclass(frozen=True, slots=True)
class ObjectDef:
    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: tuple[FieldDef, ...]
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    _by_name: dict[str, FieldDef] = dc_field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({f.name.casefold(): f for f in self.fields})

    def field(self, name: str) -> FieldDef | None:
        """The field named `name`, compared case-insensitively as Salesforce does."""
        return self._by_name.get(name.casefold())

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field whose relationship name is `name` (e.g. Owner -> OwnerId)."""
        wanted = name.casefold()
        for candidate in self.fields:
            if candidate.relationship_name and candidate.relationship_name.casefold() == wanted:
                return candidate
        return None

    def external_id_field(self, name: str) -> FieldDef | None:
        """The field usable as an upsert key: an external id field or Id itself."""
        found = self.field(name)
        if found is not None and (found.external_id or found.type == "id"):
            return found
        return None


def _ro(name: str, type_: str, label: str, **kw: Any) -> FieldDef:
    """A read-only field (set by the server)."""
    return FieldDef(name, type_, label, createable=False, updateable=False, **kw)


def _bookkeeping(*, deletable: bool) -> tuple[FieldDef, ...]:
    audit = (
        _ro("Id", "id", "Record ID", length=18, nillable=False, defaulted_on_create=True),
        _ro("CreatedDate", "datetime", "Created Date", nillable=False, defaulted_on_create=True),
        _ro(
            "CreatedById",
            "reference",
            "Created By ID",
            length=18,
            nillable=False,
            defaulted_on_create=True,
            reference_to=("User",),
            relationship_name="CreatedBy",
        ),
        _ro(
            "LastModifiedDate",
            "datetime",
            "Last Modified Date",
            nillable=False,
            defaulted_on_create=True,
        ),
        _ro(
            "LastModifiedById",
            "reference",
            "Last Modified By ID",
            length=18,
            nillable=False,
            defaulted_on_create=True,
            reference_to=("User",),
            relationship_name="LastModifiedBy",
        ),
        _ro(
            "SystemModstamp",
            "datetime",
            "System Modstamp",
            nillable=False,
            defaulted_on_create=True,
        ),
    )
    if deletable:
        deleted = _ro("IsDeleted", "boolean", "Deleted", nillable=False, defaulted_on_create=True)
        return (audit[0], deleted, *audit[1:])
    return audit


CUSTOMPMS_ID = FieldDef(
    "Custompms_Id__c", "string", "Custompms Id", length=64, external_id=True, custom=True
)

TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
CLOSED_STATUSES = frozenset({"Completed"})
TASK_PRIORITIES = ("High", "Normal", "Low")

TASK = ObjectDef(
    "Task",
    "Task",
    "Tasks",
    "00T",
    (
        *_bookkeeping(deletable=True),
        FieldDef(
            "WhoId",
            "reference",
            "Name ID",
            length=18,
            reference_to=("Contact", "Lead"),
            relationship_name="Who",
        ),
        FieldDef(
            "WhatId",
            "reference",
            "Related To ID",
            length=18,
            reference_to=("Account", "Opportunity", "Case"),
            relationship_name="What",
        ),
        FieldDef(
            "Subject",
            "combobox",
            "Subject",
            length=255,
            picklist=("Call", "Send Letter", "Send Quote", "Other"),
        ),
        FieldDef("ActivityDate", "date", "Due Date Only"),
        FieldDef(
            "Status",
            "picklist",
            "Status",
            length=255,
            nillable=False,
            defaulted_on_create=True,
            default="Not Started",
            picklist=TASK_STATUSES,
            restricted=True,
        ),
        FieldDef(
            "Priority",
            "picklist",
            "Priority",
            length=40,
            nillable=False,
            defaulted_on_create=True,
            default="Normal",
            picklist=TASK_PRIORITIES,
        ),
        _ro("IsHighPriority", "boolean", "High Priority", nillable=False, defaulted_on_create=True),
        FieldDef(
            "OwnerId",
            "reference",
            "Assigned To ID",
            length=18,
            nillable=False,
            defaulted_on_create=True,
            reference_to=("User",),
            relationship_name="Owner",
        ),
        FieldDef("Description", "textarea", "Description", length=32000),
        FieldDef(
            "Type", "picklist", "Type", length=40, picklist=("Call", "Email", "Meeting", "Other")
        ),
        _ro("IsClosed", "boolean", "Closed", nillable=False, defaulted_on_create=True),
        FieldDef(
            "TaskSubtype",
            "picklist",
            "Task Subtype",
            length=40,
            updateable=False,
            defaulted_on_create=True,
            default="Task",
            picklist=("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"),
        ),
        _ro("CompletedDateTime", "datetime", "Completed Date/Time"),
        CUSTOMPMS_ID,
    ),
)

DIVISION = ObjectDef(
    "Division",
    "Division",
    "Divisions",
    "02d",
    (
        *_bookkeeping(deletable=False),
        FieldDef("Name", "string", "Division Name", length=80, nillable=False),
        FieldDef(
            "IsActive", "boolean", "Active", nillable=False, defaulted_on_create=True, default=True
        ),
        _ro(
            "IsGlobalDivision",
            "boolean",
            "Global Division",
            nillable=False,
            defaulted_on_create=True,
        ),
        FieldDef("SortOrder", "int", "Sort Order"),
        CUSTOMPMS_ID,
    ),
    deletable=False,
)

ORGANIZATION = ObjectDef(
    "Organization",
    "Organization",
    "Organizations",
    "00D",
    (
        *_bookkeeping(deletable=False),
        FieldDef("Name", "string", "Name", length=80, nillable=False, createable=False),
        FieldDef("Division", "string", "Division", length=80, createable=False),
        FieldDef("Street", "textarea", "Street", length=255, createable=False),
        FieldDef("City", "string", "City", length=40, createable=False),
        FieldDef("State", "string", "State/Province", length=80, createable=False),
        FieldDef("PostalCode", "string", "Zip/Postal Code", length=20, createable=False),
        # Country is the one address field the API cannot update (no Update property).
        _ro("Country", "string", "Country", length=80),
        FieldDef("Phone", "phone", "Phone", length=40, createable=False),
        FieldDef("Fax", "phone", "Fax", length=40, createable=False),
        FieldDef("PrimaryContact", "string", "Primary Contact", length=80, createable=False),
        FieldDef(
            "DefaultLocaleSidKey",
            "picklist",
            "Locale",
            length=40,
            nillable=False,
            createable=False,
            restricted=True,
            picklist=("en_US", "en_GB", "de_DE", "fr_FR"),
        ),
        FieldDef(
            "TimeZoneSidKey",
            "picklist",
            "Default Time Zone",
            length=40,
            nillable=False,
            createable=False,
            restricted=True,
            picklist=("America/Los_Angeles", "Europe/London", "Europe/Berlin", "GMT"),
        ),
        FieldDef(
            "LanguageLocaleKey",
            "picklist",
            "Language",
            length=40,
            nillable=False,
            createable=False,
            restricted=True,
            picklist=("en_US", "de", "fr"),
        ),
        _ro(
            "OrganizationType",
            "picklist",
            "Edition",
            length=40,
            picklist=("Developer Edition", "Enterprise Edition", "Unlimited Edition"),
        ),
        _ro("IsSandbox", "boolean", "Is Sandbox", nillable=False),
        _ro("InstanceName", "string", "Instance Name", length=5),
    ),
    createable=False,
    deletable=False,
)

USER = ObjectDef(
    "User",
    "User",
    "Users",
    "005",
    (
        *_bookkeeping(deletable=False),
        _ro("Username", "string", "Username", length=80, nillable=False, unique=True),
        _ro("Name", "string", "Full Name", length=121, nillable=False),
        _ro("FirstName", "string", "First Name", length=40),
        _ro("LastName", "string", "Last Name", length=80, nillable=False),
        _ro("Email", "email", "Email", length=128, nillable=False),
        _ro("Alias", "string", "Alias", length=8, nillable=False),
        _ro("IsActive", "boolean", "Active", nillable=False),
    ),
    createable=False,
    updateable=False,
    deletable=False,
)

OBJECTS: dict[str, ObjectDef] = {o.name.casefold(): o for o in (TASK, DIVISION, ORGANIZATION, USER)}
BY_PREFIX: dict[str, ObjectDef] = {o.key_prefix: o for o in OBJECTS.values()}


def find_object(name: str) -> ObjectDef | None:
    """The sObject named `name`, case-insensitively, or None."""
    return OBJECTS.get(name.casefold())
