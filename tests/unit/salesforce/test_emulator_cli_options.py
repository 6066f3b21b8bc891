"""`sfpms emulate salesforce` options that are refused before anything is served."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from emulators.salesforce.cli import command


def test_the_new_options_are_documented() -> None:
    result = CliRunner().invoke(command, ["--help"])
    for option in ("--custom-fields", "--jwt-cert", "--api-limit-window-s", "--bulk-job-delay"):
        assert option in result.output


def test_a_bad_custom_fields_file_names_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "fields.yaml"
    path.write_text("fields:\n  - {object: Task, name: Region__c, type: picklist}\n")
    result = CliRunner().invoke(command, ["--memory", "--http", "--custom-fields", str(path)])
    assert result.exit_code == 2
    assert "field 1 (Task.Region__c)" in result.output and "needs values" in result.output


def test_an_unusable_jwt_certificate_is_a_clear_error(tmp_path: Path) -> None:
    cert = tmp_path / "app.crt"
    cert.write_text("not a certificate")
    result = CliRunner().invoke(command, ["--memory", "--http", "--jwt-cert", str(cert)])
    assert result.exit_code == 1 and "cannot read the JWT certificate" in result.output


def test_a_custom_field_on_an_unknown_object_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "fields.yaml"
    path.write_text("fields:\n  - {object: Account, name: Tier__c, type: text}\n")
    result = CliRunner().invoke(command, ["--memory", "--http", "--custom-fields", str(path)])
    assert result.exit_code == 1 and "no sObject named 'Account'" in result.output
