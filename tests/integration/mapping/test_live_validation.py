"""The mapping checked against the live emulators' describe and OpenAPI, as at start-up."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from connectors.schemas_live import validate_against_live_schemas
from foundation.errors import ConfigError
from foundation.settings import Settings, settings_env
from sfpms.cli import cli
from streams.mapping.flows import FLOWS
from tests.integration.custompms.support import running_emulator
from tests.integration.salesforce.support import running_salesforce

pytestmark = pytest.mark.integration


@pytest.fixture
def live_settings(tmp_path: Path) -> Iterator[Settings]:
    with running_salesforce(tmp_path / "tls") as sf, running_emulator() as pms:
        yield Settings(
            salesforce_url=sf.url,
            salesforce_ca_bundle=sf.cert,
            custompms_url=pms.url,
            data_dir=tmp_path / "sfpms",
        )


def test_the_default_tables_fit_the_live_schemas(live_settings: Settings) -> None:
    validate_against_live_schemas(live_settings, FLOWS)
    result = CliRunner().invoke(cli, ["flows", "--validate"], env=settings_env(live_settings))
    assert result.exit_code == 0, result.output
    assert "all 4 flows fit" in result.output


def test_a_row_naming_a_missing_field_fails_fast_naming_the_row(live_settings: Settings) -> None:
    flow = FLOWS["task_project"]
    row = flow.row("name")
    broken_row = replace(row, sf_field="Subjekt")
    broken = replace(flow, rows=tuple(broken_row if r is row else r for r in flow.rows))
    with pytest.raises(ConfigError) as refused:
        validate_against_live_schemas(live_settings, {**FLOWS, "task_project": broken})
    assert "task_project" in str(refused.value) and "Subjekt" in str(refused.value)
