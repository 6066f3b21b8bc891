"""The broker goes away mid-workload and comes back on the same port with the same data.

noida-db keeps its data on disk, so a broker restarted on its data directory still holds
every topic, offset and table changelog. This test runs its own broker (the session's is
shared by every test), stops it by PID while people work and starts it again; people go on
working while it is down, and the product must end with exactly what people did.

The broker is stopped at a quiet moment: people pause and the sync catches up first.
noida-db 0.2.3 loses the last write it acknowledged before a stop (measured: the offset of
an acknowledged record is handed out again after the restart), which would lose a change
envelope or a changelog record whatever the product did (docs/faults.md, "Found"). Edits
made while the broker is down, and their catching up, are what this test is about.

A component that died meanwhile is started again, as `sfpms up` does, and the test goes
on, but only if it died of the known bug below (its log says so); any other death fails
the test. The bug: after a broker restart librdkafka's idempotent producer can hit a fatal
OUT_OF_ORDER_SEQUENCE_NUMBER error, and `Publisher.flush` lets it escape as something
other than a RetriableError, so the CDC process exits instead of resetting its producer
(docs/faults.md, "Found"; its regression test is at the end of this module).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, Producer

from connectors.cdc.metrics import CdcMetrics
from connectors.cdc.publisher import Publisher
from foundation.errors import RetriableError
from foundation.kafka.serde import registry_client
from foundation.settings import Settings
from sfpms.embedded.broker import EmbeddedBroker, free_port
from tests.faults.chaos import Chaos, Kill
from tests.faults.endstate import check_end_state, read_snapshot
from tests.faults.scale import scale
from tests.faults.stack import FaultStack, fault_stack
from tests.faults.workload import Workload

#: The full form (`make faults-full`) runs for minutes; pyproject's 300 s is for one test.
pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.timeout(1200)]

#: The log line of the known crash: librdkafka's fatal idempotent-producer error.
KNOWN_CRASH = "KafkaError{FATAL"


def _restart_known_crashes(stack: FaultStack) -> None:
    """Start again what died of the known crash (as `sfpms up` would); fail on any other."""
    live = stack.live
    for name, process in live.processes.items():
        if process.alive():
            continue
        log = process.log_path.read_text(errors="replace") if process.log_path else ""
        assert KNOWN_CRASH in log, f"{name} did not survive the broker restart:\n{log[-4000:]}"
        process.start()
    for worker in live.workers:
        assert worker.process.alive(), f"{worker.process.name} died:\n{worker.log_tail()}"


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A noida-db broker for this test only (noida-db: the engine that persists to disk)."""
    broker = EmbeddedBroker(
        engine="noida-db",
        port=free_port(),
        data_dir=tmp_path / "broker" / "data",
        log_path=tmp_path / "broker" / "broker.log",
    )
    broker.start(timeout=60)
    try:
        yield broker
    finally:
        broker.stop()


def test_broker_stopped_and_restarted_mid_workload_loses_and_duplicates_nothing(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    form = scale()
    rng = random.Random(form.rng_seed("broker-restart"))
    hold, held = threading.Event(), threading.Event()
    with fault_stack(own_broker.bootstrap, tmp_path / "stack") as stack:
        live = stack.live
        sf, pms = stack.sf_person(), stack.pms_person()
        watcher = (stack.sf_person(), stack.pms_person())  # the chaos thread's own clients
        workload = Workload(
            rng,
            sf,
            pms,
            prefix="B",
            journal=live.log_dir / "workload.txt",
            race_guard=form.race_guard,
        )
        duration = form.ops * (sum(form.pause) / 2 + 0.15)
        restarts = 3 if form.full else 1
        schedule = [
            Kill(duration * (i + 1) / (restarts + 1), "broker", rng.uniform(2.0, 5.0))
            for i in range(restarts)
        ]

        def pause_if_asked(_step: int) -> None:
            """Between two steps: wait while the chaos thread holds people back."""
            if hold.is_set():
                held.set()
                deadline = time.monotonic() + 120
                while hold.is_set() and time.monotonic() < deadline:
                    time.sleep(0.05)
                held.clear()

        def stop(_target: str) -> None:
            hold.set()
            held.wait(30)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # until the sync has caught up
                if not check_end_state(workload.groups, read_snapshot(*watcher)):
                    break
                time.sleep(0.5)
            own_broker.stop()
            hold.clear()  # people go on working while the broker is down

        def start(_target: str) -> None:
            own_broker.start(timeout=60)

        chaos = Chaos(schedule, stop, start)
        chaos.begin()
        try:
            workload.run(form.ops, pause=form.pause, tick=pause_if_asked)
            chaos.join()
        except BaseException:
            chaos.abort()
            raise
        _restart_known_crashes(stack)

        stack.settle(workload, form.settle_timeout, "broker: " + "; ".join(chaos.done))


def test_broker_frozen_while_the_sync_is_busy_loses_and_duplicates_nothing(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """The broker stops answering in the middle of the work (SIGSTOP: every connection
    hangs, as in a long GC pause or a network partition), while people keep working and the
    sync has writes in flight; then it goes on (SIGCONT). Unlike a restart, noida-db loses
    nothing here, so the stop need not wait for a quiet moment."""
    form = scale()
    rng = random.Random(form.rng_seed("broker-freeze"))
    assert own_broker.process is not None and own_broker.process.pid is not None
    pid = own_broker.process.pid
    with fault_stack(own_broker.bootstrap, tmp_path / "stack") as stack:
        workload = stack.workload(form.rng_seed("broker-freeze-workload"), "Z")
        duration = form.ops * (sum(form.pause) / 2 + 0.15)
        freezes = 3 if form.full else 1
        schedule = [
            Kill(duration * (i + 1) / (freezes + 1), "broker", rng.uniform(3.0, 8.0))
            for i in range(freezes)
        ]
        watcher = (stack.sf_person(), stack.pms_person())  # the chaos thread's own clients
        busy: list[int] = []

        def freeze(_target: str) -> None:
            # Busy: people's latest work is not in both systems yet. The sync often keeps up
            # with the people, so the freeze waits (bounded) for a moment it does not.
            deadline = time.monotonic() + 20.0
            while True:
                behind = len(check_end_state(workload.groups, read_snapshot(*watcher)))
                if behind or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            busy.append(behind)
            os.kill(pid, signal.SIGSTOP)

        def thaw(_target: str) -> None:
            os.kill(pid, signal.SIGCONT)

        chaos = Chaos(schedule, freeze, thaw)
        chaos.begin()
        try:
            workload.run(form.ops, pause=form.pause)
            chaos.join()
        except BaseException:
            chaos.abort()
            os.kill(pid, signal.SIGCONT)
            raise
        _restart_known_crashes(stack)
        stack.settle(workload, form.settle_timeout, "broker frozen: " + "; ".join(chaos.done))
        assert any(busy), f"the sync was never busy when the broker froze: {busy}"


class _FatalProducer(Producer):
    """A producer whose flush fails the way librdkafka's does after the broker lost the
    idempotent producer's sequence state."""

    def flush(self, *args: Any, **kwargs: Any) -> int:
        raise KafkaException(
            KafkaError(KafkaError._FATAL, "OUT_OF_ORDER_SEQUENCE_NUMBER", fatal=True)
        )


async def test_cdc_publisher_turns_a_fatal_producer_error_into_a_retriable_error(
    own_broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(kafka_bootstrap=own_broker.bootstrap, topic_prefix="fatal.")
    monkeypatch.setattr(
        Publisher,
        "_new_producer",
        lambda self: _FatalProducer(settings.producer_config(log_level=0)),
    )
    publisher = Publisher(settings, registry_client(settings), CdcMetrics(), "custompms")
    with pytest.raises(RetriableError):
        await publisher.flush()
