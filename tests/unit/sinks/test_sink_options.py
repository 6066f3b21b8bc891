"""Per-system batching defaults of the sink workers."""

from __future__ import annotations

from click.testing import CliRunner

from connectors.sinks.worker import SinkOptions
from sfpms.cli import cli


def test_salesforce_waits_longer_to_fill_collections_calls() -> None:
    sf, pms = SinkOptions.for_system("salesforce"), SinkOptions.for_system("custompms")
    assert sf.linger_s > pms.linger_s
    assert sf.batch_size > pms.batch_size == 200, "one conflict check serves 5 Collections calls"


def test_an_explicit_linger_applies_to_every_system() -> None:
    for system in ("salesforce", "custompms"):
        chosen = SinkOptions.for_system(system, linger_s=0.02, batch_size=50)
        assert (chosen.linger_s, chosen.batch_size) == (0.02, 50)


def test_the_cli_documents_the_defaults() -> None:
    shown = CliRunner().invoke(cli, ["sink", "run", "--help"])
    assert shown.exit_code == 0
    assert "Salesforce 1000" in shown.output and "Custompms 250" in shown.output
