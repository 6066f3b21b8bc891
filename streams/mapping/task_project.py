"""Salesforce Task <-> Custompms Project (each Salesforce Task is also a Custompms Task)."""

from __future__ import annotations

from streams.mapping import limits
from streams.mapping.converters import DateValue, EnumMap, Text
from streams.mapping.table import DeletePolicy, DeleteRule, Direction, FieldRow, Flow

#: Salesforce Task.Priority <-> Custompms priority; shared with the task_task flow.
PRIORITY_TO_PMS = EnumMap.of({"High": "high", "Normal": "medium", "Low": "low"})
PRIORITY_TO_SF = EnumMap.of({"high": "High", "medium": "Normal", "low": "Low"})

STATUS_TO_PMS = EnumMap.of(
    {
        "Not Started": "planned",
        "In Progress": "active",
        "Waiting on someone else": "on_hold",
        "Deferred": "on_hold",
        "Completed": "completed",
    }
)
STATUS_TO_SF = EnumMap.of(
    {
        "planned": "Not Started",
        "active": "In Progress",
        "on_hold": "Waiting on someone else",
        "completed": "Completed",
        "cancelled": "Deferred",
    }
)

FLOW = Flow(
    name="task_project",
    sf_object="Task",
    pms_resource="project",
    pms_label="Project",
    rows=(
        FieldRow(
            "Subject",
            "name",
            "string",
            Direction.BOTH,
            to_pms=Text(limits.PMS_NAME, nullable=False),
            to_sf=Text(limits.SF_TASK_SUBJECT),
        ),
        FieldRow(
            "Description",
            "description",
            "string",
            Direction.BOTH,
            to_pms=Text(limits.PMS_LONG_TEXT),
            to_sf=Text(limits.SF_TASK_DESCRIPTION),
        ),
        FieldRow(
            "Status",
            "status",
            "enum",
            Direction.BOTH,
            to_pms=STATUS_TO_PMS,
            to_sf=STATUS_TO_SF,
            note='Lossy: Salesforce has no "cancelled" and Custompms no "Deferred". Deferred '
            "becomes on_hold; cancelled becomes Deferred. While the Salesforce value still maps "
            "from the current Custompms value (Deferred for cancelled), the Custompms value is "
            "kept.",
        ),
        FieldRow(
            "Priority",
            "priority",
            "enum",
            Direction.BOTH,
            to_pms=PRIORITY_TO_PMS,
            to_sf=PRIORITY_TO_SF,
        ),
        FieldRow(
            "ActivityDate",
            "due_date",
            "date",
            Direction.BOTH,
            to_pms=DateValue(),
            to_sf=DateValue(),
        ),
        FieldRow(
            "OwnerId",
            "owner",
            "string",
            Direction.SF_TO_PMS,
            to_pms=Text(limits.PMS_PERSON_NAME),
            note="A Salesforce user id; Custompms has no Salesforce users to pick from, so it "
            "only shows who owns the Task.",
        ),
    ),
    create_in_pms=True,
    create_in_sf=True,
    delete_policy=DeletePolicy(
        # The Project may hold more than the synced Task; cancelling keeps its history.
        sf_deleted=DeleteRule.deactivate({"status": "cancelled"}),
        pms_deleted=DeleteRule.unlink(),
    ),
    notes=(
        "A Salesforce Task that sfpms creates (for a Custompms Project or Task) creates "
        "nothing further in Custompms: no second Project, no second Task.",
    ),
)
