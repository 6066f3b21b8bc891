"""kill -9 of the CDC producer, an engine worker and the sink worker while people work, and
deaths at the kill points that matter (foundation/killpoints.py): CDC after its envelopes
were acknowledged and before its position is stored; the engine after its output flush and
before its state is stored; the sinks after the target acknowledged a write and before the
result is produced, and after the results and before the offsets are committed.

Each process is killed at seeded moments during a seeded workload and started again with
the same command line (same static group instance id); a restarted process is armed with the
next kill point of its queue and dies there by itself. At the end both systems must hold
exactly what people did, mapped: nothing lost, nothing created twice, no dead letter.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from foundation.kafka import topics as t
from tests.faults.chaos import Chaos, kill_schedule, point_queues
from tests.faults.scale import scale
from tests.faults.stack import FaultStack, fault_stack
from tests.support.kafka import TopicReader

#: The full form (`make faults-full`) runs for minutes; pyproject's 300 s is for one test.
pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.timeout(1800)]

TARGETS = ("cdc", "worker", "sinks")
POINTS = {
    "cdc": ("cdc.after_publish",),
    "worker": ("engine.after_flush",),
    "sinks": ("sink.after_apply", "sink.after_results"),
}


def _process(stack: FaultStack, target: str):  # type: ignore[no-untyped-def]
    return stack.live.workers[0].process if target == "worker" else stack.live.processes[target]


def _kill(stack: FaultStack, target: str) -> None:
    _process(stack, target).kill()


def _start(stack: FaultStack, target: str, point: str | None) -> None:
    process = _process(stack, target)
    env = process.env if process.env is not None else {}
    if point:
        env["SFPMS_KILL_POINT"] = point
    else:
        env.pop("SFPMS_KILL_POINT", None)
    process.env = env
    if target == "worker":
        try:
            stack.live.workers[0].start()
        except RuntimeError:  # died at its point while starting: the watcher starts it again
            if process.returncode() != -9:
                raise
    else:
        process.start()


def _exit_code(stack: FaultStack, target: str) -> int | None:
    return _process(stack, target).returncode()


def test_kill_9_of_cdc_engine_and_sinks_mid_workload_loses_and_duplicates_nothing(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    form = scale()
    with fault_stack(kafka_bootstrap, tmp_path) as stack:
        live = stack.live
        workload = stack.workload(form.rng_seed("kills"), "K")
        # Rough length of the workload, so the kills land while it runs.
        duration = form.ops * (sum(form.pause) / 2 + 0.15)
        chaos_rng = random.Random(form.rng_seed("kills-schedule"))
        schedule = kill_schedule(chaos_rng, TARGETS, duration, form.kills_each)
        chaos = Chaos(
            schedule,
            lambda target: _kill(stack, target),
            lambda target, point: _start(stack, target, point),
            exit_code=lambda target: _exit_code(stack, target),
            points=point_queues(chaos_rng, POINTS, form.points_each),
        )
        chaos.begin()
        try:
            workload.run(form.ops, pause=form.pause)
            chaos.join(timeout=600)
            chaos.finish(timeout=30)
        except BaseException:
            chaos.abort()
            raise
        dead = [name for name, p in live.processes.items() if not p.alive()]
        dead += [w.process.name for w in live.workers if not w.process.alive()]
        assert not dead, f"{dead} exited after their restart:\n{live.logs()}"

        story = f"chaos ({chaos.killed} kill -9, {chaos.died} kill points): " + "; ".join(
            chaos.done
        )
        stack.settle(workload, form.settle_timeout, story)
        assert chaos.kills() >= form.min_kills, story
        assert chaos.died > 0, f"no kill point was reached: {story}"
        assert len({g.kind for g in workload.groups}) == 5, workload.log
        letters = TopicReader(live.settings, t.DEADLETTER)
        bad = letters.drain(quiet=2.0)
        assert bad == [], "people's work made no bad input: " + "; ".join(
            f"{b['topic']}@{b['offset']}: {b['reason']}" for b in bad
        )
        letters.close()
        print(f"kills survived: {chaos.kills()} ({story})")
