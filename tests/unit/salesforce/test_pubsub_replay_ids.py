"""Replay ids: the emulator's validation and retention, and the client's replay starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.salesforce.pubsub import ReplayStart
from emulators.salesforce.pubsub.eventlog import EventLog, ReplayIdInvalid, replay_id
from emulators.salesforce.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def log_with(n: int, clock: Clock, store: Store | None = None, retention: float = 60) -> EventLog:
    log = EventLog(store or Store(None), retention, clock)
    for i in range(n):
        log.append([("schema", f"uuid-{i}", f"payload {i}".encode())])
        clock.now += 10
    return log


def test_positions_count_up_and_replay_ids_are_eight_opaque_bytes() -> None:
    log = log_with(3, Clock())
    events = log.all()
    assert [e.position for e in events] == [1, 2, 3]
    assert all(len(e.replay_id) == 8 for e in events)
    assert log.tip == 3 and log.earliest() == 0


def test_read_returns_events_after_a_position_up_to_a_limit() -> None:
    log = log_with(5, Clock())
    assert [e.position for e in log.read(1, 2)] == [2, 3]
    assert log.read(5, 10) == [] and log.read(0, 0) == []


@pytest.mark.parametrize(
    "replay",
    [b"", b"\x00" * 7, b"\x00" * 9, replay_id(4)],
    ids=["empty", "short", "long", "future"],
)
def test_malformed_or_never_issued_replay_ids_are_refused(replay: bytes) -> None:
    log = log_with(3, Clock())
    with pytest.raises(ReplayIdInvalid):
        log.position_of(replay)


def test_every_issued_position_and_the_start_are_valid_resume_points() -> None:
    log = log_with(3, Clock())
    assert [log.position_of(replay_id(n)) for n in range(4)] == [0, 1, 2, 3]


def test_events_older_than_retention_are_dropped_and_their_ids_refused() -> None:
    clock = Clock()
    log = log_with(3, clock, retention=25)  # stored at t, t+10, t+20; now t+30
    assert log.earliest() == 1  # trims: event 1 is 30 s old
    assert [e.position for e in log.all()] == [2, 3]
    with pytest.raises(ReplayIdInvalid, match="retention"):
        log.position_of(replay_id(0))  # event 1 would be skipped
    assert log.position_of(replay_id(1)) == 1  # nothing after it was lost
    clock.now += 100
    assert log.earliest() == 3 and log.all() == []
    assert log.position_of(replay_id(3)) == 3


def test_log_and_tip_survive_reopening_the_database(tmp_path: Path) -> None:
    clock = Clock()
    db = tmp_path / "sf.db"
    log_with(2, clock, Store(db))
    reopened = EventLog(Store(db), 60, clock)
    assert reopened.tip == 2 and [e.payload for e in reopened.all()] == [b"payload 0", b"payload 1"]
    reopened.append([("schema", "uuid-2", b"payload 2")])
    assert reopened.tip == 3


def test_the_tip_survives_even_when_every_event_has_expired(tmp_path: Path) -> None:
    clock = Clock()
    db = tmp_path / "sf.db"
    log_with(2, clock, Store(db), retention=5)
    clock.now += 100
    reopened = EventLog(Store(db), 5, clock)
    assert reopened.all() == [] and reopened.tip == 2
    with pytest.raises(ReplayIdInvalid):
        reopened.position_of(replay_id(1))


def test_replay_start_after_needs_a_replay_id_and_keeps_it_opaque() -> None:
    assert ReplayStart.after(b"\x00\x01").replay_id == b"\x00\x01"
    assert ReplayStart.latest().preset == "LATEST" and ReplayStart.earliest().preset == "EARLIEST"
    with pytest.raises(ValueError, match="stored replay id"):
        ReplayStart.after(b"")
