"""Custompms custom-field declarations and the models they extend (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from emulators.custompms.custom_fields import (
    CustomFieldsError,
    parse_custom_fields,
    with_custom_fields,
)
from emulators.custompms.errors import ApiError
from emulators.custompms.resources import RESOURCES, apply_patch

TASKS = [
    {"resource": "tasks", "name": "region", "type": "enum", "values": ["emea", "apac"]},
    {"resource": "tasks", "name": "effort", "type": "number"},
]


def test_declarations_group_by_resource() -> None:
    declared = parse_custom_fields({"fields": TASKS})
    assert [s.name for s in declared.of("tasks")] == ["region", "effort"]
    assert declared.of("customers") == ()
    assert parse_custom_fields(None).of("tasks") == ()


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"resource": "tasks", "name": "Region", "type": "string"}, "name"),
        ({"resource": "invoices", "name": "x", "type": "string"}, "resource"),
        ({"resource": "tasks", "name": "x", "type": "enum"}, "distinct values"),
        ({"resource": "tasks", "name": "x", "type": "number", "values": ["a"]}, "enum fields only"),
        ({"resource": "tasks", "name": "x", "type": "boolean", "max_length": 3}, "string fields"),
    ],
)
def test_invalid_declarations_are_refused_naming_the_entry(
    entry: dict[str, Any], problem: str
) -> None:
    with pytest.raises(CustomFieldsError) as raised:
        parse_custom_fields([entry], "pms.yaml")
    assert str(raised.value).startswith("pms.yaml: field 1") and problem in str(raised.value)


def test_a_name_declared_twice_is_refused() -> None:
    with pytest.raises(CustomFieldsError, match="already declares region"):
        parse_custom_fields([TASKS[0], TASKS[0]])


def test_extended_specs_validate_and_complete_custom_fields() -> None:
    spec = with_custom_fields(RESOURCES["tasks"], parse_custom_fields(TASKS).of("tasks"))
    fields = spec.validate_create(
        {"project_id": "prj_1", "title": "t", "custom_fields": {"region": "apac"}}
    )
    assert fields["custom_fields"] == {"region": "apac", "effort": None}
    with pytest.raises(ApiError) as raised:
        spec.validate_patch({"custom_fields": {"colour": "red"}})
    assert (raised.value.status, raised.value.field) == (422, "custom_fields.colour")
    assert spec.validate_patch({"custom_fields": {"effort": 2}}) == {
        "custom_fields": {"effort": 2.0}
    }


def test_merge_patch_of_custom_fields() -> None:
    current = {"title": "t", "custom_fields": {"region": "emea", "effort": 1.0}}
    assert apply_patch(current, {"custom_fields": {"effort": 2.0}})["custom_fields"] == {
        "region": "emea",
        "effort": 2.0,
    }
    assert apply_patch(current, {"custom_fields": None})["custom_fields"] == {
        "region": None,
        "effort": None,
    }
