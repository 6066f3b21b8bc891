"""The generated data-flow document, and the `sfpms docs` / `sfpms flows` commands."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from sfpms.cli import cli
from streams.mapping.dataflow_doc import render_dataflow_rst
from streams.mapping.flows import FLOWS

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "dataflow.rst"


def test_committed_dataflow_document_is_up_to_date() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render_dataflow_rst(FLOWS.values()), (
        "docs/dataflow.rst is stale: run `sfpms docs dataflow`"
    )


def test_document_has_the_title_and_a_section_per_flow_with_the_promised_sentences() -> None:
    text = render_dataflow_rst(FLOWS.values())
    assert text.startswith("=" * 32 + "\nSalesforce to Custompms Dataflow\n" + "=" * 32 + "\n")
    for flow in FLOWS.values():
        sf, pms = f"Salesforce {flow.sf_object}", f"Custompms {flow.pms_label}"
        assert f"\n{flow.title}\n{'=' * len(flow.title)}\n" in text
        assert f"Every {sf} will be synchronized with a {pms}." in text
        assert (
            f"Once a link between a {sf} and a {pms} is established, it will keep in sync "
            "between the two systems, regardless of where it is edited." in text
        )


def test_each_table_has_the_three_required_headers_and_one_line_per_row() -> None:
    text = render_dataflow_rst(FLOWS.values())
    flow = FLOWS["task_project"]
    section = text.split(f"\n{flow.title}\n")[1].split("\n.. rubric::")[0]
    assert ".. list-table::" in section
    assert (
        "   * - Salesforce Task Property\n"
        "     - Custompms Project Property\n"
        "     - Custompms Data Type\n"
    ) in section
    assert section.count("   * - ") == len(flow.rows) + 1
    assert "   * - ActivityDate\n     - due_date\n     - date\n" in section


def test_one_way_rows_deletes_and_creation_are_described_under_the_tables() -> None:
    text = render_dataflow_rst(FLOWS.values())
    assert "``CompletedDateTime`` to ``completed_at``: Salesforce to Custompms only." in text
    assert "Deleting a Salesforce Task deletes the linked Custompms Task." in text
    assert "sets ``status`` = ``cancelled``" in text
    assert "A new Custompms Customer creates nothing in Salesforce." in text
    assert "A new Custompms Task creates a Salesforce Task." in text


def test_docs_dataflow_writes_the_file_and_check_passes_afterwards(tmp_path: Path) -> None:
    out = tmp_path / "docs" / "dataflow.rst"
    runner = CliRunner()
    written = runner.invoke(cli, ["docs", "dataflow", "--out", str(out)])
    assert written.exit_code == 0, written.output
    assert out.read_text(encoding="utf-8") == render_dataflow_rst(FLOWS.values())
    checked = runner.invoke(cli, ["docs", "dataflow", "--out", str(out), "--check"])
    assert checked.exit_code == 0


def test_docs_dataflow_check_fails_on_a_stale_or_missing_file(tmp_path: Path) -> None:
    out = tmp_path / "dataflow.rst"
    runner = CliRunner()
    missing = runner.invoke(cli, ["docs", "dataflow", "--out", str(out), "--check"])
    assert missing.exit_code == 1
    out.write_text("old\n", encoding="utf-8")
    stale = runner.invoke(cli, ["docs", "dataflow", "--out", str(out), "--check"])
    assert stale.exit_code == 1
    assert "stale" in stale.output
    assert out.read_text(encoding="utf-8") == "old\n"


def test_flows_json_lists_every_flow_with_rows_and_policies() -> None:
    result = CliRunner().invoke(cli, ["flows", "--json"])
    assert result.exit_code == 0, result.output
    flows = json.loads(result.output)["flows"]
    assert [f["name"] for f in flows] == list(FLOWS)
    task = flows[3]
    assert (task["sf_object"], task["pms_resource"]) == ("Task", "task")
    completed = next(r for r in task["rows"] if r["pms_field"] == "completed_at")
    assert completed["direction"] == "sf_to_pms"
    assert completed["to_sf"] is None
    assert completed["to_pms"] == "date-time, UTC, millisecond precision"
    assert set(completed) >= {"sf_field", "pms_field", "pms_type", "direction", "to_pms", "to_sf"}
    assert task["policies"]["sf_deleted"] == {"action": "propagate", "patch": {}}
    assert task["policies"]["requires"] == [{"field": "project_id", "flow": "task_project"}]
    assert [f["policies"]["pms_default"] for f in flows] == [True, False, False, False]
    assert flows[0]["policies"]["pms_deleted"] == {
        "action": "deactivate",
        "patch": {"IsActive": False},
    }


def test_flows_table_shows_each_flow_and_its_policies() -> None:
    result = CliRunner().invoke(cli, ["flows"])
    assert result.exit_code == 0, result.output
    for name in FLOWS:
        assert name in result.output
    assert 'pms_deleted: deactivate {"IsActive": false}' in result.output
    assert "requires: project_id from flow task_project" in result.output
