"""Salesforce Task <-> Custompms Task, filed under the Project linked to the same Task."""

from __future__ import annotations

from streams.mapping import limits
from streams.mapping.converters import DateTimeValue, DateValue, EnumMap, LinkedId, Text
from streams.mapping.table import DeletePolicy, DeleteRule, Direction, FieldRow, Flow
from streams.mapping.task_project import PRIORITY_TO_PMS, PRIORITY_TO_SF

STATUS_TO_PMS = EnumMap.of(
    {
        "Not Started": "todo",
        "In Progress": "in_progress",
        "Waiting on someone else": "blocked",
        "Deferred": "blocked",
        "Completed": "done",
    }
)
STATUS_TO_SF = EnumMap.of(
    {
        "todo": "Not Started",
        "in_progress": "In Progress",
        "blocked": "Waiting on someone else",
        "done": "Completed",
    }
)

FLOW = Flow(
    name="task_task",
    sf_object="Task",
    pms_resource="task",
    pms_label="Task",
    rows=(
        FieldRow(
            "Subject",
            "title",
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
            note="Lossy: Deferred becomes blocked, which comes back as Waiting on someone "
            "else. While the Salesforce value still maps from the current Custompms value, the "
            "Custompms value is kept.",
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
            "assignee",
            "string",
            Direction.SF_TO_PMS,
            to_pms=Text(limits.PMS_PERSON_NAME),
            note="A Salesforce user id, shown in Custompms as the assignee.",
        ),
        FieldRow(
            "CompletedDateTime",
            "completed_at",
            "datetime",
            Direction.SF_TO_PMS,
            to_pms=DateTimeValue(),
            note="Read-only in Salesforce: it is set when Status becomes Completed, which the "
            "status row already carries.",
        ),
        FieldRow(
            "Id",
            "project_id",
            "reference",
            Direction.SF_TO_PMS,
            to_pms=LinkedId("task_project"),
            note="The Custompms Task is written only once that link exists.",
        ),
    ),
    create_in_pms=True,
    # A Task a person adds in Custompms becomes a Salesforce Task of its own. That Task is
    # born by the sync, so it creates no Project in turn: the Custompms Task stays under the
    # Project it was filed in.
    create_in_sf=True,
    delete_policy=DeletePolicy(
        sf_deleted=DeleteRule.propagate(),
        pms_deleted=DeleteRule.unlink(),
    ),
    requires=(("project_id", "task_project"),),
    notes=(
        "A Salesforce Task that sfpms creates (for a Custompms Task or Project) creates "
        "nothing further in Custompms: no second Project, no second Task.",
    ),
)
