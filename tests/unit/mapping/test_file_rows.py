"""Rows as an operator writes them: every converter by type from the file, drift policies,
custom fields, and a hypothesis round trip (any valid row written as YAML loads back as
the converters it describes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.mapping.apply import pms_to_sf, sf_to_pms
from streams.mapping.converters import (
    Boolean,
    Constant,
    DateTimeValue,
    DateValue,
    EnumMap,
    Number,
    Text,
)
from streams.mapping.errors import ConversionError, UnknownValue
from streams.mapping.loader import MappingFileError, default_mapping_path, parse_mapping
from streams.mapping.table import Direction, FieldRow, Flow

SHIPPED = default_mapping_path().read_text(encoding="utf-8")
REGION = """      - salesforce: Region__c
        custompms: custom_fields.region
        type: enum
        direction: both
        converter: enum
        options:
          to_custompms: {EMEA: emea, APAC: apac, Americas: americas}
          to_salesforce: {emea: EMEA, apac: APAC, americas: Americas}
"""


def with_rows(rows: str, flow: str = "task_project") -> str:
    """The shipped file with `rows` added at the top of `flow`'s rows."""
    head = SHIPPED.index(f"  - name: {flow}\n")
    at = SHIPPED.index("    rows:\n", head) + len("    rows:\n")
    return SHIPPED[:at] + rows + SHIPPED[at:]


def project_flow(rows: str) -> Flow:
    return parse_mapping(with_rows(rows), "custom.yaml").flows["task_project"]


def test_a_custom_picklist_row_maps_both_ways_with_dotted_custom_fields() -> None:
    flow = project_flow(REGION)
    row = flow.row("custom_fields.region")
    assert (row.sf_field, row.pms_type, row.direction) == ("Region__c", "enum", Direction.BOTH)
    assert sf_to_pms(flow, {"Region__c": "APAC"}, record_id="00T1")["custom_fields.region"] == (
        "apac"
    )
    assert pms_to_sf(flow, {"custom_fields": {"region": "emea"}}, record_id="p1")["Region__c"] == (
        "EMEA"
    )
    assert (
        row.where
        == f"custom.yaml:{with_rows(REGION).splitlines().index(REGION.splitlines()[0]) + 1}"
    )


def test_an_unknown_value_without_a_default_raises_drift_naming_the_row_line() -> None:
    flow = project_flow(REGION)
    with pytest.raises(UnknownValue) as caught:
        sf_to_pms(flow, {"Region__c": "Antarctica"}, record_id="00T9")
    text = str(caught.value)
    assert caught.value.value == "Antarctica"
    assert (caught.value.flow, caught.value.record, caught.value.field) == (
        "task_project",
        "00T9",
        "Region__c",
    )
    assert "add it to `to_custompms` of the row at custom.yaml:" in text
    assert isinstance(caught.value, ConversionError)


def test_an_unknown_value_with_a_default_takes_it() -> None:
    rows = REGION.replace(
        "          to_salesforce:",
        "          default: {to_custompms: emea}\n          to_salesforce:",
    )
    flow = project_flow(rows)
    assert sf_to_pms(flow, {"Region__c": "Antarctica"}, record_id="00T1")[
        "custom_fields.region"
    ] == ("emea")
    with pytest.raises(UnknownValue):  # the other direction has no default
        pms_to_sf(flow, {"custom_fields": {"region": "polar"}}, record_id="p1")


def test_with_a_drift_list_the_rest_of_the_record_still_maps() -> None:
    flow = project_flow(REGION)
    drift: list[UnknownValue] = []
    mapped = sf_to_pms(
        flow, {"Region__c": "Mars", "Subject": "Kept"}, record_id="00T1", unknown=drift
    )
    assert mapped["name"] == "Kept" and "custom_fields.region" not in mapped
    assert [d.value for d in drift] == ["Mars"]


@pytest.mark.parametrize(
    ("spec", "to_pms", "to_sf"),
    [
        (
            "type: string\n        options: {max_length: {to_custompms: 9, to_salesforce: 7}}",
            Text(9),
            Text(7),
        ),
        ("type: boolean", Boolean(), Boolean()),
        ("type: boolean\n        options: {required: false}", Boolean(True), Boolean(True)),
        ("type: date", DateValue(), DateValue()),
        (
            "type: datetime\n        options: {required: true}",
            DateTimeValue(False),
            DateTimeValue(False),
        ),
        (
            "type: number\n        options: {integer: true, minimum: 0, maximum: 10}",
            Number(True, True, 0, 10),
            Number(True, True, 0, 10),
        ),
    ],
)
def test_each_data_type_uses_its_generic_converter(spec: str, to_pms: Any, to_sf: Any) -> None:
    rows = f"      - salesforce: X__c\n        custompms: custom_fields.x\n        {spec}\n"
    row = project_flow(rows).row("custom_fields.x")
    assert (row.to_pms, row.to_sf) == (to_pms, to_sf)


@pytest.mark.parametrize(
    ("value", "result"),
    [(3, 3), (2.0, 2), (0, 0), (10, 10)],
)
def test_a_whole_number_row_accepts_whole_values_in_bounds(value: Any, result: Any) -> None:
    assert Number(integer=True, minimum=0, maximum=10)(value) == result


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (True, "expected a number"),
        ("3", "expected a number"),
        (2.5, "not a whole number"),
        (-1, "below the minimum"),
        (11, "above the maximum"),
        (float("nan"), "not a finite number"),
    ],
)
def test_a_number_row_refuses_what_it_cannot_carry(value: Any, problem: str) -> None:
    with pytest.raises(ConversionError, match=problem):
        Number(integer=True, minimum=0, maximum=10)(value)


def test_a_value_table_for_a_direction_the_row_never_writes_is_an_error() -> None:
    rows = REGION.replace("direction: both", "direction: sf_to_pms")
    with pytest.raises(MappingFileError, match="it never converts to_salesforce"):
        project_flow(rows)


def test_a_constant_row_names_no_salesforce_field() -> None:
    rows = (
        "      - salesforce: Type\n        custompms: kind\n        type: constant\n"
        "        options: {value: x}\n"
    )
    with pytest.raises(MappingFileError, match="a constant row has no `salesforce` field"):
        project_flow(rows)


# -- hypothesis: any valid row, written as YAML, loads as the converters it describes -------

_TEXT = st.text(alphabet=st.characters(categories=("Lu", "Ll", "Nd")), min_size=1, max_size=12)
_LIMIT = st.integers(min_value=1, max_value=100_000)


@st.composite
def rows(draw: st.DrawFn) -> tuple[dict[str, Any], FieldRow]:
    """(the row as an operator writes it, the FieldRow it must load as)."""
    kind = draw(st.sampled_from(["string", "enum", "boolean", "date", "datetime", "number"]))
    direction = draw(st.sampled_from(list(Direction)))
    required = draw(st.booleans())
    spec: dict[str, Any] = {
        "salesforce": "Field__c",
        "custompms": "custom_fields.field",
        "type": kind,
        "direction": direction.value,
        "options": {"required": required},
    }
    to_pms: Any = None
    to_sf: Any = None
    if kind == "string":
        pms_limit, sf_limit = draw(_LIMIT), draw(_LIMIT)
        spec["options"]["max_length"] = {"to_custompms": pms_limit, "to_salesforce": sf_limit}
        to_pms, to_sf = Text(pms_limit, not required), Text(sf_limit, not required)
    elif kind == "enum":
        values = draw(st.lists(_TEXT, min_size=1, max_size=5, unique=True))
        forward = {v: v.lower() or "x" for v in values}
        back = {target: source for source, target in forward.items()}
        if direction.writes_pms:
            spec["options"]["to_custompms"] = forward
        if direction.writes_sf:
            spec["options"]["to_salesforce"] = back
        to_pms, to_sf = (
            EnumMap.of(forward, nullable=not required),
            EnumMap.of(back, nullable=not required),
        )
    elif kind == "boolean":
        to_pms = to_sf = Boolean(not required)
    elif kind == "date":
        to_pms = to_sf = DateValue(not required)
    elif kind == "datetime":
        to_pms = to_sf = DateTimeValue(not required)
    else:
        integer = draw(st.booleans())
        spec["options"]["integer"] = integer
        to_pms = to_sf = Number(not required, integer)
    expected = FieldRow(
        "Field__c",
        "custom_fields.field",
        kind,
        direction,
        to_pms=to_pms if direction.writes_pms else None,
        to_sf=to_sf if direction.writes_sf else None,
    )
    return spec, expected


@settings(max_examples=60, deadline=None)
@given(rows())
def test_any_valid_row_loads_as_the_converters_it_describes(
    case: tuple[dict[str, Any], FieldRow],
) -> None:
    spec, expected = case
    text = yaml.safe_dump([spec], sort_keys=False, allow_unicode=True)
    indented = "".join(f"      {line}\n" for line in text.splitlines())
    assert project_flow(indented).row("custom_fields.field") == expected


@settings(max_examples=40, deadline=None)
@given(st.dates(), st.booleans())
def test_constant_and_date_values_survive_yaml_as_text(day: dt.date, flag: bool) -> None:
    rows_ = (
        f"      - custompms: custom_fields.mark\n        type: constant\n"
        f"        options: {{value: '{day.isoformat()}'}}\n"
        f"      - custompms: custom_fields.flag\n        type: constant\n"
        f"        options: {{value: {str(flag).lower()}}}\n"
    )
    flow = project_flow(rows_)
    assert flow.row("custom_fields.mark").to_pms == Constant(day.isoformat())
    assert flow.row("custom_fields.flag").to_pms == Constant(flag)
