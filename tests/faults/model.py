"""What people did, as the fault tests record it: one `Group` per person-created record.

A group is a record a person created and the twins the sync should make for it, found in
both systems by the group's tag (the first word of every name the workload writes). Each
edit is kept with the member it was made on, in the member's own terms, in the order the
workload made them (one thread, so that is also the order of the systems' commit times).

Members are named by (system, entity): ("sf", "Task"), ("pms", "project") and so on. Which
members a group has, which flow links each Custompms member to the Salesforce one, and what
a person's delete leaves behind (docs/mapping.md, "Deleting records") are tables here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from streams.mapping.flows import FLOWS
from streams.mapping.table import FieldRow, Flow

Member = tuple[str, str]
SF_TASK: Member = ("sf", "Task")
SF_DIVISION: Member = ("sf", "Division")
PROJECT: Member = ("pms", "project")
PMS_TASK: Member = ("pms", "task")
CUSTOMER: Member = ("pms", "customer")

GroupKind = Literal["sf_task", "sf_division", "pms_project", "pms_task", "pms_customer"]

#: The members of each kind of group, the person-created one first.
MEMBERS: dict[str, tuple[Member, ...]] = {
    "sf_task": (SF_TASK, PROJECT, PMS_TASK),
    "sf_division": (SF_DIVISION, CUSTOMER),
    "pms_project": (PROJECT, SF_TASK),
    "pms_task": (PMS_TASK, SF_TASK),
    "pms_customer": (CUSTOMER, SF_DIVISION),
}

#: The flow that links a Custompms member to the group's Salesforce record.
FLOW_OF: dict[Member, str] = {
    PROJECT: "task_project",
    PMS_TASK: "task_task",
    CUSTOMER: "division_customer",
}

#: The Salesforce fields the workload edits, per Salesforce object (two-way rows only).
EDITED_FIELDS: dict[str, tuple[str, ...]] = {
    "Task": ("Subject", "Status", "Priority", "ActivityDate", "Description"),
    "Division": ("Name", "IsActive"),
}

#: Which members exist after a person deleted `deleted` (None: nothing deleted), per the
#: delete policies: task_project cancels the Project, task_task deletes the Custompms Task,
#: division_customer deactivates; a delete in Custompms unlinks (or deactivates a Division).
SURVIVORS: dict[tuple[str, Member | None], frozenset[Member]] = {
    ("sf_task", None): frozenset({SF_TASK, PROJECT, PMS_TASK}),
    ("sf_task", SF_TASK): frozenset({PROJECT}),
    ("sf_task", PROJECT): frozenset({SF_TASK}),  # deleted with cascade: its Task goes too
    ("sf_task", PMS_TASK): frozenset({SF_TASK, PROJECT}),
    ("sf_division", None): frozenset({SF_DIVISION, CUSTOMER}),
    ("sf_division", CUSTOMER): frozenset({SF_DIVISION}),
    ("pms_project", None): frozenset({PROJECT, SF_TASK}),
    ("pms_project", SF_TASK): frozenset({PROJECT}),
    ("pms_project", PROJECT): frozenset({SF_TASK}),
    ("pms_task", None): frozenset({PMS_TASK, SF_TASK}),
    ("pms_task", SF_TASK): frozenset(),
    ("pms_task", PMS_TASK): frozenset({SF_TASK}),
    ("pms_customer", None): frozenset({CUSTOMER, SF_DIVISION}),
    ("pms_customer", CUSTOMER): frozenset({SF_DIVISION}),
}

#: Values a delete policy writes on a survivor: (group kind, deleted) -> member, field, value.
DELETE_PATCHES: dict[tuple[str, Member], tuple[Member, str, Any]] = {
    ("sf_task", SF_TASK): (PROJECT, "status", "cancelled"),
    ("pms_project", SF_TASK): (PROJECT, "status", "cancelled"),
    ("sf_division", CUSTOMER): (SF_DIVISION, "IsActive", False),
    ("pms_customer", CUSTOMER): (SF_DIVISION, "IsActive", False),
}


def sf_object(kind: str) -> str:
    """The Salesforce object of a group kind."""
    return "Division" if kind in ("sf_division", "pms_customer") else "Task"


def row_for(member: Member, sf_field: str) -> tuple[Flow, FieldRow] | None:
    """The flow and row carrying `sf_field` to a Custompms member (None for Salesforce)."""
    if member[0] == "sf":
        return None
    flow = FLOWS[FLOW_OF[member]]
    row = next(r for r in flow.rows if r.sf_field == sf_field)
    return flow, row


def field_name(member: Member, sf_field: str) -> str:
    """The member's own name for a Salesforce field (`Subject` -> `name` on a Project)."""
    found = row_for(member, sf_field)
    return sf_field if found is None else found[1].pms_field


@dataclass(frozen=True, slots=True)
class Edit:
    """A person set `sf_field` (in the member's terms: `value`) on one member."""

    seq: int
    at: float
    member: Member
    sf_field: str
    value: Any


@dataclass
class Group:
    """A person-created record, its twins and everything people did to them."""

    tag: str
    kind: GroupKind
    origin_id: str
    ids: dict[Member, str] = field(default_factory=dict)
    edits: list[Edit] = field(default_factory=list)
    deleted: Member | None = None
    parent_project: str | None = None
    hosts_pms_tasks: bool = False

    @property
    def members(self) -> tuple[Member, ...]:
        return MEMBERS[self.kind]

    @property
    def origin(self) -> Member:
        return self.members[0]

    @property
    def frozen(self) -> bool:
        """After a delete nobody touches the group again (what remains is policy)."""
        return self.deleted is not None

    @property
    def survivors(self) -> frozenset[Member]:
        return SURVIVORS[(self.kind, self.deleted)]

    def last_edit(self, sf_field: str) -> Edit | None:
        found = [e for e in self.edits if e.sf_field == sf_field]
        return max(found, key=lambda e: e.seq) if found else None

    def recent_edits(self, sf_field: str, since: float) -> list[Edit]:
        """Edits of `sf_field` made after `since`, plus the last one before it."""
        found = sorted((e for e in self.edits if e.sf_field == sf_field), key=lambda e: e.seq)
        older = [e for e in found if e.at < since]
        return older[-1:] + [e for e in found if e.at >= since]
