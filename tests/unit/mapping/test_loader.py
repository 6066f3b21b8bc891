"""The mapping file: the shipped one loads into today's flows; broken ones fail with file:line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from streams.mapping.converters import EnumMap, Text
from streams.mapping.flows import FLOWS
from streams.mapping.loader import (
    MappingFileError,
    default_mapping_path,
    load_mapping,
    parse_mapping,
)
from streams.mapping.table import Direction

SHIPPED = default_mapping_path().read_text(encoding="utf-8")
SOURCE = "my-mapping.yaml"


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing `needle`."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def _edit(old: str, new: str, count: int = 1) -> str:
    assert old in SHIPPED, old
    return SHIPPED.replace(old, new, count)


def _problems(text: str) -> list[str]:
    with pytest.raises(MappingFileError) as caught:
        parse_mapping(text, SOURCE)
    assert caught.value.source == SOURCE
    return caught.value.problems


def test_the_shipped_file_holds_the_four_flows_in_dependency_order() -> None:
    loaded = load_mapping()
    assert list(loaded.flows) == [
        "division_customer",
        "organization_customer",
        "task_project",
        "task_task",
    ]
    assert loaded.source == "config/mapping.yaml"
    assert loaded.flows == FLOWS
    assert re.fullmatch(r"[0-9a-f]{16}", loaded.digest)


def test_every_row_knows_the_line_it_was_written_on() -> None:
    lines = SHIPPED.splitlines()
    for flow in FLOWS.values():
        for row in flow.rows:
            path, _, number = row.where.rpartition(":")
            assert path == "config/mapping.yaml"
            block = "\n".join(lines[int(number) - 1 : int(number) + 2])
            assert f"custompms: {row.pms_field}" in block or f"salesforce: {row.sf_field}" in block


def test_a_value_table_shared_by_an_anchor_is_the_same_in_both_task_flows() -> None:
    project, task = FLOWS["task_project"].row("priority"), FLOWS["task_task"].row("priority")
    assert (
        project.to_pms
        == task.to_pms
        == EnumMap.of({"High": "high", "Normal": "medium", "Low": "low"})
    )


def test_limits_can_differ_by_direction_or_be_shared() -> None:
    name = FLOWS["division_customer"].row("name")
    assert (name.to_pms, name.to_sf) == (Text(255, nullable=False), Text(80, nullable=False))
    phone = FLOWS["organization_customer"].row("phone")
    assert phone.to_pms == phone.to_sf == Text(40)


def test_constant_and_reference_rows_go_one_way_without_saying_so() -> None:
    text = _edit("        direction: sf_to_pms\n        converter: constant\n", "", 1)
    kind = parse_mapping(text, SOURCE).flows["division_customer"].row("kind")
    assert kind.direction is Direction.SF_TO_PMS


BROKEN = [
    pytest.param(
        "options: {max_length: 40}",
        "options: {max_length: forty}",
        "options: {max_length: forty}",
        "options.max_length: Input should be a valid integer (found 'forty')",
        id="wrong-type",
    ),
    pytest.param(
        "options: {max_length: 40}",
        "options: {max_lenght: 40}",
        "max_lenght",
        "unknown key 'max_lenght'",
        id="unknown-key",
    ),
    pytest.param(
        "        custompms: phone\n",
        "      custompms: phone\n",
        "      custompms: phone",
        "check the indentation",
        id="bad-indentation",
    ),
    pytest.param(
        "        type: boolean\n",
        "        type: bool\n",
        "type: bool",
        "type: Input should be 'string', 'boolean'",
        id="unknown-data-type",
    ),
    pytest.param(
        "        custompms: phone\n",
        "        custompms: phone\n        custompms: fax\n",
        "custompms: fax",
        "key 'custompms' appears twice",
        id="repeated-key",
    ),
    pytest.param(
        "options: {required: true}\n      - custompms: kind",
        "options: {required: yes}\n      - custompms: kind",
        "required: yes",
        "Input should be a valid boolean (found 'yes')",
        id="yes-is-not-a-boolean",
    ),
    pytest.param(
        "options: {flow: task_project}",
        "options: {flow: task_projekt}",
        "flow: task_projekt",
        "reference to flow 'task_projekt', which must be defined before this flow",
        id="reference-to-an-unknown-flow",
    ),
    pytest.param(
        "        custompms: fax\n",
        "        custompms: phone\n",
        ("custompms: phone", 2),
        "two rows write Custompms phone",
        id="two-rows-one-property",
    ),
    pytest.param(
        "      on: [title, due_date]",
        "      on: [title, due]",
        "on: [title, due]",
        "'due' is not the Custompms property of a row",
        id="match-on-an-unknown-row",
    ),
    pytest.param(
        "options: {max_length: {to_custompms: 35}}",
        "options: {}",
        "options: {}",
        "needs `max_length` (to_custompms)",
        id="text-row-without-a-limit",
    ),
    pytest.param(
        "      salesforce_deleted: {action: propagate}",
        "      salesforce_deleted: {action: deactivate}",
        "action: deactivate}",
        "`set` is needed exactly for action deactivate",
        id="deactivation-without-what-to-set",
    ),
]


@pytest.mark.parametrize(("old", "new", "at", "expected"), BROKEN)
def test_a_broken_file_fails_naming_file_line_flow_and_field(
    old: str, new: str, at: str | tuple[str, int], expected: str
) -> None:
    text = _edit(old, new)
    problems = _problems(text)
    line = _line_of(text, *at) if isinstance(at, tuple) else _line_of(text, at)
    assert any(p.startswith(f"{SOURCE}:{line}: ") and expected in p for p in problems), problems


def test_a_row_problem_names_its_flow_and_row() -> None:
    text = _edit("options: {max_length: 40}", "options: {max_length: 0}")
    (problem,) = _problems(text)
    assert "flow organization_customer, row 2 (Phone), options.max_length" in problem


def test_a_missing_key_is_named_at_the_line_of_its_parent() -> None:
    text = _edit("    custompms_label: Project\n", "")
    (problem,) = _problems(text)
    assert problem.startswith(f"{SOURCE}:{_line_of(text, '- name: task_project')}: ")
    assert "'custompms_label' is missing; add it" in problem


def test_every_problem_of_a_file_is_listed_at_once() -> None:
    text = _edit("options: {max_length: 40}", "options: {max_lenght: 40}")
    text = text.replace("    custompms_label: Project\n", "")
    assert len(_problems(text)) == 2


def test_a_picklist_value_no_stays_text_and_dates_stay_text() -> None:
    text = _edit(
        "          to_custompms: {High: high, Normal: medium, Low: low}",
        "          to_custompms: {High: high, Normal: medium, Low: low, No: low, 2025-01-01: low}",
    )
    row = parse_mapping(text, SOURCE).flows["task_project"].row("priority")
    assert isinstance(row.to_pms, EnumMap)
    assert row.to_pms("No") == "low" and row.to_pms("2025-01-01") == "low"


def test_not_yaml_at_all_is_reported_on_line_one() -> None:
    assert _problems("- just\n- a list\n")[0].startswith(f"{SOURCE}:1: expected a mapping")


def test_a_missing_file_says_so() -> None:
    with pytest.raises(MappingFileError, match="cannot read the file"):
        load_mapping(Path("/nonexistent/mapping.yaml"))


def test_flows_must_use_objects_the_sync_captures() -> None:
    text = _edit("    salesforce_object: Division\n", "    salesforce_object: Account\n")
    (problem,) = _problems(text)
    assert "Account" in problem and "Division, Organization, Task" in problem
