"""`sfpms emulate custompms` options (parsing only; serving is covered by integration tests)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from emulators.custompms.cli import _parse_tokens, command


def test_the_command_documents_its_options() -> None:
    result = CliRunner().invoke(command, ["--help"])
    assert result.exit_code == 0
    for option in ("--port", "--memory", "--data-dir", "--seed / --no-seed", "--token"):
        assert option in result.output


def test_tokens_are_given_as_token_equals_client() -> None:
    assert _parse_tokens(("abc=alice", "x=y=z")) == {"abc": "alice", "x": "y=z"}
    for bad in ("no-client", "=alice", "token="):
        with pytest.raises(click.BadParameter):
            _parse_tokens((bad,))


def test_a_bad_custom_fields_file_stops_the_emulator_naming_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "fields.yaml"
    path.write_text("fields:\n  - {resource: tasks, name: Region, type: string}\n")
    result = CliRunner().invoke(command, ["--memory", "--custom-fields", str(path)])
    assert result.exit_code == 2
    assert "--custom-fields" in result.output and "field 1 (tasks.Region)" in result.output
