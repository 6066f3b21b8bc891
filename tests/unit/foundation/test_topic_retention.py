"""Dead letters, write commands and results outlive an outage: retention per kind of topic."""

from __future__ import annotations

import pytest

from foundation.kafka import topics as t
from foundation.settings import Settings

DAY_MS = 24 * 3600 * 1000


def _retention(settings: Settings) -> dict[str, str | None]:
    return {
        spec.name: spec.config(settings.retention_ms_for(spec.retention)).get("retention.ms")
        for spec in t.catalogue()
    }


def test_dead_letters_are_kept_forever_and_commands_and_results_far_longer_than_7_days() -> None:
    kept = _retention(Settings())
    assert kept[t.DEADLETTER] == "-1"
    assert kept[t.RESULTS] == str(90 * DAY_MS)
    for system in ("salesforce", "custompms"):
        assert kept[t.writes_topic(system)] == str(90 * DAY_MS)
    for entity in t.CUSTOMPMS_RESOURCES:
        assert kept[t.changes_topic("custompms", entity)] == "-1"


def test_each_retention_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFPMS_RETENTION_WRITES_MS", "-1")
    monkeypatch.setenv("SFPMS_RETENTION_RESULTS_MS", str(400 * DAY_MS))
    monkeypatch.setenv("SFPMS_RETENTION_DEADLETTER_MS", str(3650 * DAY_MS))
    kept = _retention(Settings())
    assert kept[t.writes_topic("custompms")] == "-1"
    assert kept[t.RESULTS] == str(400 * DAY_MS)
    assert kept[t.DEADLETTER] == str(3650 * DAY_MS)


def test_the_redrive_log_is_compacted_so_it_keeps_one_entry_per_dead_letter() -> None:
    spec = next(s for s in t.catalogue() if s.name == t.REDRIVEN)
    assert spec.compacted and spec.config()["cleanup.policy"] == "compact"
