"""Validation of the tables against Salesforce describe and the Custompms OpenAPI document."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from foundation.errors import ConfigError
from streams.mapping.converters import Boolean, EnumMap, Text
from streams.mapping.flows import FLOWS
from streams.mapping.table import DeletePolicy, DeleteRule, Direction, Flow
from streams.mapping.validate import validate_all, validate_flow
from tests.unit.mapping.support import pms_openapi, sf_describes


@pytest.fixture(scope="module")
def describes() -> dict[str, Any]:
    return sf_describes()


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return pms_openapi()


def _swap(flow: Flow, key: str, **changes: Any) -> Flow:
    rows = tuple(replace(r, **changes) if r.key == key else r for r in flow.rows)
    return replace(flow, rows=rows)


@pytest.mark.parametrize("flow", list(FLOWS.values()), ids=list(FLOWS))
def test_default_tables_fit_the_fixture_schemas(flow: Flow, describes: Any, openapi: Any) -> None:
    assert validate_flow(flow, describes, openapi) == []


def test_validate_all_accepts_the_default_tables(describes: Any, openapi: Any) -> None:
    validate_all(describes, openapi)


def test_a_single_sobject_describe_is_accepted_for_its_own_flow(
    describes: Any, openapi: Any
) -> None:
    assert validate_flow(FLOWS["task_task"], describes["Task"], openapi) == []
    problems = validate_flow(FLOWS["division_customer"], describes["Task"], openapi)
    assert problems == ["division_customer: no Salesforce describe for Division"]


def test_resources_are_found_by_component_name_when_paths_do_not_say(
    describes: Any, openapi: Any
) -> None:
    without_paths = {**openapi, "paths": {}}
    for flow in FLOWS.values():
        assert validate_flow(flow, describes, without_paths) == []


def _problems(flow: Flow, describes: Any, openapi: Any) -> str:
    return "\n".join(validate_flow(flow, describes, openapi))


BROKEN: list[Any] = [
    pytest.param(
        "task_project",
        "name",
        {"sf_field": "Subjekt"},
        "task_project: row Subjekt <-> name: Salesforce Task.Subjekt does not exist",
        id="unknown-salesforce-field",
    ),
    pytest.param(
        "organization_customer",
        "address.city",
        {"pms_field": "address.town"},
        "row City <-> address.town: Custompms customer.address.town does not exist",
        id="unknown-nested-custompms-property",
    ),
    pytest.param(
        "task_task",
        "completed_at",
        {"direction": Direction.BOTH, "to_sf": FLOWS["task_task"].row("due_date").to_sf},
        "row CompletedDateTime <-> completed_at: Salesforce Task.CompletedDateTime is not "
        "updateable",
        id="read-only-salesforce-target",
    ),
    pytest.param(
        "task_project",
        "owner",
        {"direction": Direction.BOTH, "to_sf": Text(255)},
        "Salesforce Task.OwnerId is of type reference, which a string row cannot use",
        id="string-row-writing-a-salesforce-reference",
    ),
    pytest.param(
        "task_project",
        "status",
        {"pms_type": "string", "to_pms": Text(255), "to_sf": Text(40)},
        "row Status <-> status: Salesforce Task.Status is of type picklist, which a string row",
        id="incompatible-type",
    ),
    pytest.param(
        "task_project",
        "status",
        {
            "to_sf": EnumMap.of(
                {
                    "planned": "Not Started",
                    "active": "In Progress",
                    "on_hold": "Waiting on someone else",
                    "completed": "Completed",
                    "canceled": "Deferred",
                }
            )
        },
        "source value 'canceled' is not in the Custompms project.status enum list",
        id="enum-value-missing-in-openapi",
    ),
    pytest.param(
        "task_task",
        "priority",
        {
            "to_pms": EnumMap.of(
                {"High": "high", "Normal": "medium", "Low": "low", "Urgent": "high"}
            )
        },
        "source value 'Urgent' is not in the Salesforce Task.Priority picklist list",
        id="enum-value-missing-in-picklist",
    ),
    pytest.param(
        "task_project",
        "status",
        {
            "to_pms": EnumMap.of(
                {
                    "Not Started": "planned",
                    "In Progress": "active",
                    "Completed": "completed",
                    "Waiting on someone else": "on_hold",
                }
            )
        },
        "Salesforce Task.Status picklist value 'Deferred' has no Custompms mapping",
        id="picklist-value-without-mapping",
    ),
    pytest.param(
        "division_customer",
        "name",
        {"to_sf": Text(120, nullable=False)},
        "converter allows 120 characters but Salesforce Division.Name holds 80",
        id="limit-above-salesforce-length",
    ),
    pytest.param(
        "division_customer",
        "name",
        {"to_sf": Text(80)},
        "Salesforce Division.Name requires a value but the converter lets an empty value through",
        id="empty-value-into-required-salesforce-field",
    ),
    pytest.param(
        "division_customer",
        "active",
        {"pms_field": "version", "pms_type": "boolean"},
        "Custompms customer.version is integer, which a boolean row cannot use",
        id="incompatible-custompms-type",
    ),
    pytest.param(
        "task_task",
        "due_date",
        {
            "pms_field": "created_at",
            "pms_type": "datetime",
            "to_pms": Boolean(),
            "to_sf": Boolean(),
        },
        "Custompms task.created_at is read-only",
        id="read-only-custompms-target",
    ),
]


@pytest.mark.parametrize(("flow_name", "key", "changes", "expected"), BROKEN)
def test_broken_row_is_reported_by_name(
    flow_name: str, key: str, changes: dict[str, Any], expected: str, describes: Any, openapi: Any
) -> None:
    broken = _swap(FLOWS[flow_name], key, **changes)
    assert expected in _problems(broken, describes, openapi)


def test_property_missing_from_the_update_body_cannot_be_written(
    describes: Any, openapi: Any
) -> None:
    schema = copy.deepcopy(openapi)
    del schema["components"]["schemas"]["ProjectPatch"]["properties"]["due_date"]
    problems = _problems(FLOWS["task_project"], describes, schema)
    assert "row ActivityDate <-> due_date: Custompms project.due_date cannot be updated" in problems


def test_custompms_enum_value_without_salesforce_mapping_is_reported(
    describes: Any, openapi: Any
) -> None:
    schema = copy.deepcopy(openapi)
    schema["components"]["schemas"]["TaskStatus"]["enum"].append("archived")
    problems = _problems(FLOWS["task_task"], describes, schema)
    assert "Custompms task.status enum value 'archived' has no Salesforce mapping" in problems


def test_flow_creating_in_salesforce_needs_createable_fields(describes: Any, openapi: Any) -> None:
    organization = replace(FLOWS["organization_customer"], create_in_sf=True)
    problems = _problems(organization, describes, openapi)
    assert "Salesforce Organization.Name is not createable but the flow creates" in problems


def test_delete_patch_must_fit_the_target_schema(describes: Any, openapi: Any) -> None:
    policy = DeletePolicy(
        sf_deleted=DeleteRule.deactivate({"status": "archived"}),
        pms_deleted=DeleteRule.deactivate({"IsClosed": True}),
    )
    problems = _problems(replace(FLOWS["task_project"], delete_policy=policy), describes, openapi)
    assert "delete patch value 'archived' is not in the Custompms project.status enum" in problems
    assert "delete patch writes Salesforce Task.IsClosed, which is missing or not updateable" in (
        problems
    )


def test_missing_custompms_resource_is_reported(describes: Any, openapi: Any) -> None:
    flow = replace(FLOWS["task_task"], pms_resource="ticket")
    assert "task_task: no Custompms schema for resource ticket" in _problems(
        flow, describes, openapi
    )


def test_validate_all_raises_one_config_error_listing_every_bad_row(
    describes: Any, openapi: Any
) -> None:
    bad_subject = _swap(FLOWS["task_project"], "name", sf_field="Subjekt")
    bad_title = _swap(FLOWS["task_task"], "title", pms_field="headline")
    with pytest.raises(ConfigError) as caught:
        validate_all(describes, openapi, [FLOWS["division_customer"], bad_subject, bad_title])
    text = str(caught.value)
    assert "task_project: row Subjekt <-> name" in text
    assert "task_task: row Subject <-> headline" in text
    assert "division_customer" not in text


def test_nullable_forms_of_openapi_3_0_and_3_1_are_understood(describes: Any, openapi: Any) -> None:
    schema = copy.deepcopy(openapi)
    props = schema["components"]["schemas"]["Project"]["properties"]
    props["description"] = {"type": ["string", "null"], "maxLength": 32000}
    props["owner"] = {"type": "string", "maxLength": 255, "nullable": True}
    assert validate_flow(FLOWS["task_project"], describes, schema) == []
    props["description"] = {"type": "string", "maxLength": 32000}
    assert validate_flow(FLOWS["task_project"], describes, schema) == [
        "task_project: row Description <-> description: Custompms project.description requires "
        "a value but the converter lets an empty value through"
    ]
