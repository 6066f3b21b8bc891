"""Custom-field configuration, the per-instance catalog, and number-field validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emulators.salesforce.catalog import Catalog, CatalogError
from emulators.salesforce.custom_fields import (
    CustomFieldsError,
    load_custom_fields,
    parse_custom_fields,
)
from emulators.salesforce.errors import RecordError
from emulators.salesforce.schema import TASK, find_object
from emulators.salesforce.validation import prepare_write, round_to_scale


def _one(**entry: Any) -> Any:
    return parse_custom_fields([{"object": "Task", **entry}])[0][1]


def test_types_map_to_salesforce_describe_types() -> None:
    assert _one(name="A__c", type="text").type == "string"
    assert _one(name="A__c", type="text").length == 255
    assert _one(name="A__c", type="number", precision=8, scale=2).type == "double"
    box = _one(name="A__c", type="checkbox")
    assert (box.type, box.nillable, box.default) == ("boolean", False, False)
    pick = _one(name="A__c", type="picklist", values=["x", "y"], restricted=True, default="y")
    assert (pick.picklist, pick.restricted, pick.default, pick.custom) == (
        ("x", "y"),
        True,
        "y",
        True,
    )
    assert _one(name="Go_Live__c", type="date").label == "Go Live"


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"name": "Region", "type": "text"}, "custom field API name"),
        ({"name": "Two__Parts__c", "type": "text"}, "custom field API name"),
        ({"name": "Trailing___c", "type": "text"}, "custom field API name"),
        ({"name": "A" * 41 + "__c", "type": "text"}, "at most 40"),
        ({"name": "A__c", "type": "text", "length": 256}, "length"),
        ({"name": "A__c", "type": "picklist"}, "needs values"),
        ({"name": "A__c", "type": "picklist", "values": ["x", "x"]}, "unique"),
        ({"name": "A__c", "type": "number", "precision": 19}, "precision"),
        ({"name": "A__c", "type": "number", "precision": 2, "scale": 3}, "scale"),
        ({"name": "A__c", "type": "date", "external_id": True}, "external ids"),
        ({"name": "A__c", "type": "text", "colour": "red"}, "colour"),
        ({"name": "A__c", "type": "blob"}, "type"),
    ],
)
def test_invalid_declarations_name_the_entry_and_the_problem(
    entry: dict[str, Any], problem: str
) -> None:
    with pytest.raises(CustomFieldsError) as raised:
        parse_custom_fields({"fields": [{"object": "Task", **entry}]}, "fields.yaml")
    assert str(raised.value).startswith("fields.yaml: field 1")
    assert problem in str(raised.value)


def test_a_yaml_file_is_read_and_a_missing_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "fields.yaml"
    path.write_text("fields:\n  - {object: Task, name: Region__c, type: text, length: 20}\n")
    [(sobject, fdef)] = load_custom_fields(path)
    assert (sobject, fdef.name, fdef.length) == ("Task", "Region__c", 20)
    with pytest.raises(CustomFieldsError, match="cannot read"):
        load_custom_fields(tmp_path / "missing.yaml")


def test_the_catalog_extends_one_instance_and_leaves_the_standard_schema_alone() -> None:
    catalog = Catalog.with_custom_fields(
        parse_custom_fields([{"object": "task", "name": "Region__c", "type": "text"}])
    )
    task = catalog.find("Task")
    assert task is not None and task.field("region__C") is not None
    assert TASK.field("Region__c") is None and find_object("Task") is TASK
    with pytest.raises(CatalogError, match="already has"):
        catalog.add_field("Task", task.fields[-1])
    with pytest.raises(CatalogError, match="no sObject"):
        catalog.add_field("Account", task.fields[-1])


def test_a_picklist_value_added_at_runtime_replaces_the_definition() -> None:
    catalog = Catalog()
    before = catalog.find("Task")
    status = catalog.add_picklist_value("Task", "Status", "Escalated")
    after = catalog.find("Task")
    assert status.picklist[-1] == "Escalated" and after is not before
    assert before is not None and "Escalated" not in before.field("Status").picklist  # type: ignore[union-attr]
    assert (
        catalog.add_picklist_value("Task", "Status", "Escalated").picklist.count("Escalated") == 1
    )
    with pytest.raises(CatalogError, match="not a picklist"):
        catalog.add_picklist_value("Task", "Subject2", "x")


def test_numbers_round_half_up_and_respect_precision() -> None:
    catalog = Catalog.with_custom_fields(
        parse_custom_fields(
            [{"object": "Task", "name": "Budget__c", "type": "number", "precision": 5, "scale": 2}]
        )
    )
    task = catalog.find("Task")
    assert task is not None
    assert round_to_scale(2.675, 2) == 2.68 and round_to_scale(-0.125, 2) == -0.13
    values = prepare_write(task, {"Budget__c": "999.994"}, creating=False, lookup=lambda _: None)
    assert values["Budget__c"] == 999.99
    with pytest.raises(RecordError) as raised:
        prepare_write(task, {"Budget__c": 999.995}, creating=False, lookup=lambda _: None)
    assert raised.value.items[0].code == "NUMBER_OUTSIDE_VALID_RANGE"
