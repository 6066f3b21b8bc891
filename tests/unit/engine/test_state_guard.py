"""Local link-table partitions ahead of the broker's changelog are rebuilt, others kept."""

from __future__ import annotations

from pathlib import Path

from rocksdict import Options, Rdict

from streams.engine.state_guard import (
    OFFSET_KEY,
    drop_state_ahead_of_changelog,
    persisted_offset,
)

CHANGELOGS = {"hubs": "p.sfpms-engine-hubs-changelog", "routes": "p.sfpms-engine-routes-changelog"}


def _db(tables: Path, name: str, offset: int | None) -> Path:
    path = tables / name
    db = Rdict(str(path), options=Options(raw_mode=True))
    db[b"some-key"] = b"some-value"
    if offset is not None:
        db[OFFSET_KEY] = str(offset).encode()
    db.close()
    return path


def test_only_partitions_ahead_of_the_changelog_are_removed(tmp_path: Path) -> None:
    ahead = _db(tmp_path, "hubs-1.db", 11)  # the broker lost offset 11: its end is 11
    behind = _db(tmp_path, "hubs-0.db", 5)
    at_end = _db(tmp_path, "routes-0.db", 9)
    empty = _db(tmp_path, "routes-1.db", None)
    other = _db(tmp_path, "other-0.db", 99)
    ends = {
        (CHANGELOGS["hubs"], 1): 11,
        (CHANGELOGS["hubs"], 0): 10,
        (CHANGELOGS["routes"], 0): 10,
        (CHANGELOGS["routes"], 1): 0,
    }
    asked: list[tuple[str, int]] = []

    def high_watermark(topic: str, partition: int) -> int:
        asked.append((topic, partition))
        return ends[(topic, partition)]

    removed = drop_state_ahead_of_changelog(tmp_path, CHANGELOGS, high_watermark)
    assert removed == [ahead]
    assert not ahead.exists()
    assert behind.exists() and at_end.exists() and empty.exists() and other.exists()
    assert persisted_offset(behind) == 5 and persisted_offset(empty) is None
    assert ("p.sfpms-engine-routes-changelog", 1) not in asked, "no offset, nothing to ask"


def test_a_worker_that_never_ran_has_nothing_to_check(tmp_path: Path) -> None:
    def never(topic: str, partition: int) -> int:
        raise AssertionError("no broker call without local state")

    assert drop_state_ahead_of_changelog(tmp_path / "missing", CHANGELOGS, never) == []
