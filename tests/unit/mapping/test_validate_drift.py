"""Validation findings: drift is a warning with the row's policy, errors name file:line."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from foundation.errors import ConfigError
from streams.mapping.converters import EnumMap
from streams.mapping.flows import FLOWS
from streams.mapping.table import MatchPart
from streams.mapping.validate import check_flow, validate_all
from tests.unit.mapping.support import pms_openapi, sf_describes
from tests.unit.mapping.test_file_rows import REGION, project_flow


@pytest.fixture
def describes() -> dict[str, Any]:
    return copy.deepcopy(sf_describes())


@pytest.fixture
def openapi() -> dict[str, Any]:
    return copy.deepcopy(pms_openapi())


def _add_picklist_value(describes: dict[str, Any], field: str, value: str) -> None:
    spec = next(f for f in describes["Task"]["fields"] if f["name"] == field)
    spec["picklistValues"].append({"active": True, "value": value, "label": value})


def test_a_new_salesforce_picklist_value_is_a_warning_not_an_error(
    describes: dict[str, Any], openapi: dict[str, Any]
) -> None:
    _add_picklist_value(describes, "Status", "Escalated")
    warnings = validate_all(describes, openapi)  # does not raise: the sync starts
    texts = [w.text() for w in warnings]
    assert len(warnings) == 2, texts  # both Task flows read Status
    for warning in warnings:
        assert warning.level == "warning" and warning.drifting == "Status"
        assert "picklist value 'Escalated' has no Custompms mapping" in warning.message
        assert "dead-letter topic, the rest syncs" in warning.message
        assert warning.where.startswith("config/mapping.yaml:")


def test_a_new_custompms_enum_value_is_a_warning_naming_the_custompms_field(
    describes: dict[str, Any], openapi: dict[str, Any]
) -> None:
    openapi["components"]["schemas"]["TaskStatus"]["enum"].append("archived")
    (warning,) = validate_all(describes, openapi, [FLOWS["task_task"]])
    assert warning.drifting == "status"
    assert "enum value 'archived' has no Salesforce mapping" in warning.message


def test_a_row_with_a_default_says_where_unknown_values_go(
    describes: dict[str, Any], openapi: dict[str, Any]
) -> None:
    flow = FLOWS["task_project"]
    row = flow.row("status")
    assert isinstance(row.to_pms, EnumMap)
    defaulted = replace(row, to_pms=replace(row.to_pms, default="planned"))
    flow = replace(flow, rows=tuple(defaulted if r is row else r for r in flow.rows))
    _add_picklist_value(describes, "Status", "Escalated")
    (warning,) = [f for f in check_flow(flow, describes, openapi) if f.level == "warning"]
    assert "they become 'planned' (the row's default)" in warning.message


def test_errors_still_stop_and_name_the_line_of_the_row(
    describes: dict[str, Any], openapi: dict[str, Any]
) -> None:
    flow = FLOWS["task_project"]
    row = flow.row("name")
    broken = replace(
        flow, rows=tuple(replace(r, sf_field="Subjekt") if r is row else r for r in flow.rows)
    )
    with pytest.raises(ConfigError) as caught:
        validate_all(describes, openapi, [broken])
    assert f"{row.where}: task_project: row Subjekt <-> name:" in str(caught.value)


def test_a_custom_field_the_org_lacks_is_an_error_naming_it(
    describes: dict[str, Any], openapi: dict[str, Any]
) -> None:
    findings = check_flow(project_flow(REGION), describes, openapi)
    messages = [f.message for f in findings if f.level == "error"]
    assert "Salesforce Task.Region__c does not exist" in messages
    assert "Custompms project.custom_fields.region does not exist" in messages


def test_match_criteria_and_scope_filters_must_name_existing_fields(
    describes: dict[str, Any], openapi: dict[str, Any]
) -> None:
    flow = replace(
        FLOWS["task_project"],
        match=(MatchPart("Legacy_Id__c", "legacy_id"),),
    )
    messages = [f.message for f in check_flow(flow, describes, openapi)]
    assert "match criterion names Salesforce Task.Legacy_Id__c, which does not exist" in messages
    assert "match criterion names Custompms project.legacy_id, which does not exist" in messages


def test_the_shipped_flows_have_no_findings_against_the_fixtures(
    describes: dict[str, Any], openapi: dict[str, Any]
) -> None:
    for flow in FLOWS.values():
        assert check_flow(flow, describes, openapi) == []
