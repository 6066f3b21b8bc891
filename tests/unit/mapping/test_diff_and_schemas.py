"""Mapping diffs, and the entity-schema fields a mapping adds (custom fields)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from click.testing import CliRunner
from fastavro import parse_schema, schemaless_reader, schemaless_writer

from foundation.kafka.schemas import base_schema_dict, schema_dict
from sfpms.cli import cli
from sfpms.registry.compat import incompatibilities
from streams.mapping.avro import entity_extensions, installed_for
from streams.mapping.diff import diff_mappings
from streams.mapping.flows import FLOWS
from streams.mapping.loader import parse_mapping
from tests.unit.mapping.test_file_rows import REGION, SHIPPED, with_rows


def test_the_shipped_mapping_adds_no_fields_to_the_shipped_schemas() -> None:
    assert entity_extensions(FLOWS.values()) == {}


def test_a_custom_field_row_adds_a_nullable_field_on_both_sides() -> None:
    flows = parse_mapping(with_rows(REGION), "m.yaml").flows
    extensions = entity_extensions(flows.values())
    assert extensions["sfpms.salesforce.Task"] == [
        {"name": "Region__c", "type": ["null", "string"], "default": None}
    ]
    (custom,) = extensions["sfpms.custompms.Project"]
    assert custom["name"] == "custom_fields" and custom["default"] is None
    record = custom["type"][1]
    assert record["name"] == "ProjectCustomFields"
    assert record["fields"] == [{"name": "region", "type": ["null", "string"], "default": None}]


def test_installed_extensions_reach_the_change_envelope_and_round_trip_through_avro() -> None:
    flows = parse_mapping(with_rows(REGION), "m.yaml").flows
    with installed_for(flows.values()):
        envelope = schema_dict("sfpms.custompms.ProjectChange")
        parsed = parse_schema(envelope)
        after = {
            "id": "prj_1",
            "version": 1,
            "name": "x",
            "custom_fields": {"region": "emea"},
        }
        value = {
            "op": "c",
            "before": None,
            "after": after,
            "source": {"system": "custompms", "entity": "project", "id": "prj_1"},
            "ts_ms": 0,
        }
        buffer = io.BytesIO()
        schemaless_writer(buffer, parsed, value)
        buffer.seek(0)
        decoded = schemaless_reader(buffer, parsed)
        assert isinstance(decoded, dict)
        assert decoded["after"]["custom_fields"] == {"region": "emea"}
    assert "custom_fields" not in json.dumps(schema_dict("sfpms.custompms.ProjectChange"))


def test_adding_a_custom_field_is_backward_compatible_and_changing_its_type_is_not() -> None:
    base = json.dumps(base_schema_dict("sfpms.salesforce.TaskChange"))
    with installed_for(parse_mapping(with_rows(REGION), "m.yaml").flows.values()):
        with_region = json.dumps(schema_dict("sfpms.salesforce.TaskChange"))
    assert incompatibilities(with_region, [base], "BACKWARD") == []
    as_number = REGION.replace("type: enum", "type: number").replace("converter: enum", "")
    as_number = as_number.split("        options:")[0]
    with installed_for(parse_mapping(with_rows(as_number), "m.yaml").flows.values()):
        numeric = json.dumps(schema_dict("sfpms.salesforce.TaskChange"))
    assert incompatibilities(numeric, [base, with_region], "BACKWARD") != []


def test_diff_lists_rows_added_removed_and_changed(tmp_path: Path) -> None:
    old = parse_mapping(SHIPPED, "old.yaml").flows
    text = with_rows(REGION).replace(
        "options: {max_length: 32000}", "options: {max_length: 30000}", 1
    )
    text = text.replace(
        "      - salesforce: OwnerId\n        custompms: owner\n",
        "      - salesforce: OwnerId\n        custompms: owner_name\n",
    )
    new = parse_mapping(text, "new.yaml").flows
    lines = [change.text() for change in diff_mappings(old, new)]
    assert "+ task_project: row Region__c <-> custom_fields.region (enum)" in lines
    assert "+ task_project: row OwnerId -> owner_name (string)" in lines
    assert "- task_project: row OwnerId -> owner" in lines
    assert any(
        line.startswith("~ task_project: row Description <-> description to_pms:") for line in lines
    )
    assert diff_mappings(old, old) == []


def test_sfpms_mapping_diff_and_show_print_the_changes_and_the_source(tmp_path: Path) -> None:
    new = tmp_path / "new.yaml"
    new.write_text(with_rows(REGION), encoding="utf-8")
    runner = CliRunner()
    shown = runner.invoke(cli, ["mapping", "diff", "config/mapping.yaml", str(new)])
    assert shown.exit_code == 0, shown.output
    assert "+ task_project: row Region__c <-> custom_fields.region (enum)" in shown.output
    as_json = runner.invoke(cli, ["mapping", "show", str(new), "--json"])
    payload = json.loads(as_json.output)
    assert payload["source"] == str(new)
    assert [f["name"] for f in payload["flows"]] == list(FLOWS)


def test_sfpms_mapping_validate_offline_fails_with_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(SHIPPED.replace("type: boolean", "type: bool", 1), encoding="utf-8")
    result = CliRunner().invoke(cli, ["mapping", "validate", str(broken), "--offline"])
    assert result.exit_code == 1
    line = next(n for n, text in enumerate(SHIPPED.splitlines(), 1) if "type: boolean" in text)
    assert f"{broken}:{line}: flow division_customer, row 2 (IsActive), type:" in result.output
    fine = CliRunner().invoke(cli, ["mapping", "validate", "--offline"])
    assert fine.exit_code == 0 and "4 flows, the file is well-formed" in fine.output
