"""Per-system batching defaults of the sink workers."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from foundation.settings import Settings
from sfpms.cli import cli


def test_salesforce_waits_longer_to_fill_collections_calls() -> None:
    sinks = Settings().sinks
    sf, pms = sinks.for_system("salesforce"), sinks.for_system("custompms")
    assert sf.linger_s > pms.linger_s
    assert sf.batch_size > pms.batch_size == 200, "one conflict check serves 5 Collections calls"


def test_an_explicit_linger_applies_to_every_system(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFPMS_SINKS__SALESFORCE__LINGER_S", "0.02")
    monkeypatch.setenv("SFPMS_SINKS__CUSTOMPMS__LINGER_S", "0.02")
    monkeypatch.setenv("SFPMS_SINKS__CUSTOMPMS__BATCH_SIZE", "50")
    sinks = Settings().sinks
    assert sinks.salesforce.linger_s == sinks.custompms.linger_s == 0.02
    assert sinks.custompms.batch_size == 50
    assert sinks.salesforce.batch_size == 1000, "unset fields keep their per-system default"


def test_a_sink_setting_out_of_range_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFPMS_SINKS__CUSTOMPMS__BATCH_SIZE", "0")
    with pytest.raises(ValueError, match="batch_size"):
        Settings()


def test_the_cli_documents_the_defaults() -> None:
    shown = CliRunner().invoke(cli, ["sink", "run", "--help"])
    assert shown.exit_code == 0
    assert "Salesforce 1000" in shown.output and "Custompms 250" in shown.output
