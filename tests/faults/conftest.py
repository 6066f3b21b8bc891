"""The fault suite's seed: drawn anew each run, printed at the start and at the end, and in
every failure report of a fault test (SFPMS_FAULTS_SEED replays it; tests/faults/scale.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.scale import replay_hint


def pytest_report_header() -> str:
    return replay_hint()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_line(replay_hint())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.failed:  # type: ignore[attr-defined]
        report.sections.append(("fault seed", replay_hint()))  # type: ignore[attr-defined]
    return report
