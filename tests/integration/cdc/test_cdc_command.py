"""`sfpms cdc` as an operator runs it: a killed process resumes without a gap, on-demand
snapshots, positions, and metrics near the Salesforce API limit."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from connectors.cdc.positions import load_positions
from foundation.kafka import topics as t
from foundation.kafka.serde import TopicCodec, registry_client
from foundation.settings import Settings, get_settings, settings_env
from sfpms.cli import cli
from sfpms.embedded.broker import free_port
from sfpms.embedded.process import ManagedProcess, wait_until
from tests.integration.cdc.support import FAST, CdcThread, Stack, TopicReader

pytestmark = pytest.mark.integration


def _cdc_process(settings: Settings, log: Path) -> ManagedProcess:
    argv = [sys.executable, "-m", "sfpms", "cdc", "run", "--poll-interval", "0.2"]
    argv += ["--overlap", "0.5", "--batch-size", "50"]
    process = ManagedProcess(
        "cdc", argv, log_path=log, env={**os.environ, **settings_env(settings)}
    )
    process.start()
    return process


def _ids(reader: TopicReader) -> set[str]:
    return {e["source"]["id"] for e in reader.envelopes()}


def test_a_killed_cdc_process_resumes_on_restart_without_a_gap(
    stack: Stack, tmp_path: Path
) -> None:
    sf, pms = stack.sf, stack.pms
    tasks = [sf.create("Task", {"Subject": f"First {n}"}) for n in range(3)]
    customers = [
        pms.call("POST", "/customers", json={"name": f"First {n}"})["id"] for n in range(3)
    ]
    topics = (t.changes_topic("salesforce", "task"), t.changes_topic("custompms", "customer"))
    log = tmp_path / "cdc.log"
    with TopicReader(stack.settings, *topics) as reader:
        process = _cdc_process(stack.settings, log)
        try:
            reader.wait_for(
                lambda _: _ids(reader) >= {*tasks, *customers}, what="the first changes"
            )
        finally:
            process.kill()  # no flush, no final checkpoint
        tasks += [sf.create("Task", {"Subject": f"Second {n}"}) for n in range(3)]
        sf.update("Task", tasks[0], {"Subject": "First 0, edited"})
        customers += [
            pms.call("POST", "/customers", json={"name": f"Second {n}"})["id"] for n in range(3)
        ]
        process = _cdc_process(stack.settings, log)
        try:
            reader.wait_for(
                lambda _: _ids(reader) >= {*tasks, *customers} and "u" in reader.ops(tasks[0]),
                what=f"every change after the restart; log: {log}",
            )
        finally:
            process.stop(grace=20)
    assert process.returncode() == 0, log.read_text()[-2000:]
    seqs = {e["source"]["seq"] for e in reader.envelopes() if e["source"]["system"] == "custompms"}
    assert seqs == set(range(1, 7))  # duplicates allowed, gaps not
    assert reader.envelopes(tasks[0])[-1]["after"]["Subject"] == "First 0, edited"


@pytest.fixture
def cli_env(stack: Stack) -> Iterator[dict[str, str]]:
    get_settings.cache_clear()
    yield settings_env(stack.settings)
    get_settings.cache_clear()


def test_snapshot_command_republishes_live_records_as_reads_and_leaves_positions_alone(
    stack: Stack, cli_env: dict[str, str]
) -> None:
    sf, pms = stack.sf, stack.pms
    tasks = [sf.create("Task", {"Subject": f"Snap {n}"}) for n in range(3)]
    sf.delete("Task", tasks[2])
    customers = [pms.call("POST", "/customers", json={"name": f"Snap {n}"})["id"] for n in range(2)]
    runner = CliRunner()

    result = runner.invoke(cli, ["cdc", "snapshot", "--entity", "Task"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "2 salesforce Task records published as op r" in result.output
    result = runner.invoke(cli, ["cdc", "snapshot", "--entity", "customers"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "2 custompms customer records published as op r" in result.output

    topics = (t.changes_topic("salesforce", "task"), t.changes_topic("custompms", "customer"))
    with TopicReader(stack.settings, *topics) as reader:
        reader.wait_for(lambda rs: len(rs) >= 4, what="four snapshot envelopes")
        reader.drain(0.3)
    assert _ids(reader) == {tasks[0], tasks[1], *customers}
    assert {(e["op"], e["source"]["snapshot"]) for e in reader.envelopes()} == {("r", True)}
    codec = TopicCodec(stack.settings, registry_client(stack.settings), t.SOURCE_POSITIONS)
    assert load_positions(stack.settings, codec) == {}

    result = runner.invoke(cli, ["cdc", "snapshot", "--entity", "Widget"], env=cli_env)
    assert result.exit_code == 2 and "unknown CDC entity" in result.output


def test_polling_slows_down_near_the_api_limit_and_metrics_say_so(stack: Stack) -> None:
    stack.sf.admin("POST", "/limits", {"used": 85_000, "limit": 100_000})
    port = free_port()
    # A small reserve: 85 % is below the sync's share, so the polls slow down, not pause.
    settings = stack.settings.model_copy(update={"salesforce_api_reserve": 0.05})
    options = FAST.model_copy(update={"usage_threshold": 0.8, "idle_poll_interval_s": 0.2})
    with CdcThread(settings, options, sources=("salesforce",), metrics_port=port) as cdc:
        cdc.wait_streaming()
        wait_until(lambda: cdc.polls("salesforce", "Task") >= 2, timeout=10, what="a second cycle")
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    usage = cdc.metrics.registry.get_sample_value("sfpms_cdc_salesforce_api_usage_ratio")
    interval = cdc.metrics.registry.get_sample_value(
        "sfpms_cdc_poll_interval_seconds", {"source": "salesforce"}
    )
    assert usage is not None and 0.85 < usage < 0.9
    assert interval == pytest.approx(0.4)  # doubled from 0.2 s
    assert 'sfpms_cdc_changes_total{entity="Organization",op="r",source="salesforce"} 1.0' in text
    assert "sfpms_cdc_source_lag_seconds" in text and "sfpms_cdc_poll_seconds_bucket" in text


def test_positions_command_lists_the_stored_watermarks(
    stack: Stack, cli_env: dict[str, str]
) -> None:
    with CdcThread(stack.settings, sources=("salesforce",)) as cdc:
        cdc.wait_streaming()
    result = CliRunner().invoke(cli, ["cdc", "positions"], env=cli_env)
    assert result.exit_code == 0, result.output
    for sobject in ("Division", "Organization"):
        assert f"salesforce/{sobject}" in result.output
