"""kill -9 of the CDC producer, an engine worker and the sink worker while people work.

Each process is killed at seeded moments during a seeded workload and started again with
the same command line (same static group instance id). At the end both systems must hold
exactly what people did, mapped: nothing lost, nothing created twice.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.faults.chaos import Chaos, kill_schedule
from tests.faults.scale import scale
from tests.faults.stack import FaultStack, fault_stack

#: The full form (`make faults-full`) runs for minutes; pyproject's 300 s is for one test.
pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.timeout(1200)]

TARGETS = ("cdc", "worker", "sinks")


def _kill(stack: FaultStack, target: str) -> None:
    if target == "worker":
        stack.live.workers[0].kill()
    else:
        stack.live.processes[target].kill()


def _start(stack: FaultStack, target: str) -> None:
    if target == "worker":
        stack.live.workers[0].start()
    else:
        stack.live.processes[target].start()


def test_kill_9_of_cdc_engine_and_sinks_mid_workload_loses_and_duplicates_nothing(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    form = scale()
    with fault_stack(kafka_bootstrap, tmp_path) as stack:
        live = stack.live
        workload = stack.workload(form.rng_seed("kills"), "K")
        # Rough length of the workload, so the kills land while it runs.
        duration = form.ops * (sum(form.pause) / 2 + 0.15)
        schedule = kill_schedule(
            random.Random(form.rng_seed("kills-schedule")), TARGETS, duration, form.kills_each
        )
        chaos = Chaos(schedule, lambda t: _kill(stack, t), lambda t: _start(stack, t))
        chaos.begin()
        try:
            workload.run(form.ops, pause=form.pause)
            chaos.join()
        except BaseException:
            chaos.abort()
            raise
        assert len(chaos.done) == 2 * len(schedule), chaos.done
        dead = [name for name, p in live.processes.items() if not p.alive()]
        dead += [w.process.name for w in live.workers if not w.process.alive()]
        assert not dead, f"{dead} exited after their restart:\n{live.logs()}"

        stack.settle(workload, form.settle_timeout, "chaos: " + "; ".join(chaos.done))
        assert len({g.kind for g in workload.groups}) == 5, workload.log
