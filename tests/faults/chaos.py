"""kill -9 at seeded moments, and deaths at kill points: run in their own thread.

`kill_schedule(rng, targets, duration, kills_each)` draws, for every target, the moments
(seconds after the start) at which it is killed and how long it stays down. `Chaos` runs
the schedule against the live stack while the workload runs in the test's thread: it kills
a process by PID (SIGKILL) and starts it again with the same command line (and so the same
static group instance id). Events run one after the other, so a process is never killed
while it is being restarted.

Kill points (foundation/killpoints.py) aim at the windows that matter: a process restarted
after a kill is armed with the next point of its target's queue (`SFPMS_KILL_POINT=name@n`),
dies there by itself, and is started again (armed with the next point, if any) by the same
thread. `kills()` counts both kinds.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Kill:
    """Kill `target` at `at` seconds; start it again `down` seconds later."""

    at: float
    target: str
    down: float


def kill_schedule(
    rng: random.Random, targets: Sequence[str], duration: float, kills_each: int
) -> list[Kill]:
    """`kills_each` kills per target between 5 % and 85 % of `duration`, spaced apart."""
    kills: list[Kill] = []
    for target in targets:
        slots = sorted(rng.uniform(0.05, 0.85) * duration for _ in range(kills_each))
        kills += [Kill(at, target, rng.uniform(0.2, 2.0)) for at in slots]
    return sorted(kills, key=lambda k: k.at)


def point_queues(
    rng: random.Random, points: Mapping[str, Sequence[str]], each: int
) -> dict[str, list[str]]:
    """Per target, `each` armed kill points `name@n` drawn from its points (n in 1..3)."""
    return {
        target: [f"{rng.choice(list(names))}@{rng.randint(1, 3)}" for _ in range(each)]
        for target, names in points.items()
    }


#: start(target, armed point or None)
Starter = Callable[[str, str | None], None]


class Chaos:
    """Runs a kill schedule and the kill points in a daemon thread; `join` re-raises."""

    def __init__(
        self,
        schedule: Sequence[Kill],
        kill: Callable[[str], None],
        start: Starter | Callable[[str], None],
        *,
        exit_code: Callable[[str], int | None] | None = None,
        points: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.schedule = list(schedule)
        self.kill = kill
        self._start = start
        self.exit_code = exit_code
        self.points = {target: list(queue) for target, queue in (points or {}).items()}
        self.armed: dict[str, str] = {}
        self.done: list[str] = []
        self.killed = 0  # by SIGKILL from here
        self.died = 0  # at a kill point
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="chaos", daemon=True)
        self._stop = threading.Event()
        self._schedule_done = threading.Event()
        self._began = 0.0

    def kills(self) -> int:
        """Kills survived so far: SIGKILLs plus deaths at kill points."""
        return self.killed + self.died

    def begin(self) -> None:
        self._began = time.monotonic()
        self._thread.start()

    def _note(self, text: str) -> None:
        self.done.append(f"{time.monotonic() - self._began:6.1f}s {text}")

    def _start_armed(self, target: str) -> None:
        queue = self.points.get(target) or []
        point = queue.pop(0) if queue else None
        if self.exit_code is None:
            self._start(target)  # type: ignore[call-arg]
        else:
            self._start(target, point)  # type: ignore[call-arg]
        if point:
            self.armed[target] = point
        else:
            self.armed.pop(target, None)
        self._note(f"start {target}" + (f" armed {point}" if point else ""))

    def _watch(self) -> None:
        """Start again what died at its kill point (SIGKILL by itself); anything else that
        died is a failure."""
        if self.exit_code is None:
            return
        for target, point in list(self.armed.items()):
            code = self.exit_code(target)
            if code is not None and code != -9:
                raise AssertionError(f"{target} exited with {code} while armed with {point}")
            if code is not None:
                self.died += 1
                self._note(f"died at {point}: {target}")
                del self.armed[target]
                self._start_armed(target)

    def _wait(self, seconds: float) -> bool:
        """Sleep `seconds` watching the kill points; True when told to stop."""
        deadline = time.monotonic() + seconds
        while True:
            self._watch()
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self._stop.wait(min(left, 0.2)):
                return True

    def _run(self) -> None:
        try:
            for event in self.schedule:
                if self._wait(self._began + event.at - time.monotonic()):
                    return
                self.kill(event.target)
                self.killed += 1
                unfired = self.armed.pop(event.target, None)
                if unfired is not None:  # killed before its point: arm it again next start
                    self.points.setdefault(event.target, []).insert(0, unfired)
                self._note(f"kill {event.target}")
                if self._wait(event.down):
                    return
                self._start_armed(event.target)
            self._schedule_done.set()
            while not self._stop.is_set():  # the armed points keep firing until `finish`
                self._wait(0.2)
        except BaseException as exc:  # re-raised in the test's thread by join()
            self.error = exc
            self._schedule_done.set()

    def abort(self) -> None:
        """Skip the events not yet due (the test failed; the stack is being torn down)."""
        self._stop.set()
        self._thread.join(30)

    def join(self, timeout: float = 120.0) -> None:
        """Wait until every scheduled event has run (the schedule ends before the workload)."""
        if not self._schedule_done.wait(timeout):
            raise AssertionError(f"chaos schedule did not finish in {timeout}s: {self.done}")
        if self.error is not None:
            raise AssertionError(f"chaos failed after {self.done}") from self.error

    def finish(self, timeout: float = 30.0) -> None:
        """Let the armed points fire (up to `timeout`), then start what is still armed again
        unarmed, and stop the thread."""
        deadline = time.monotonic() + timeout
        while self.armed and time.monotonic() < deadline and self.error is None:
            time.sleep(0.2)
        self._stop.set()
        self._thread.join(30)
        for target, point in list(self.armed.items()):
            if self.exit_code is not None and self.exit_code(target) == -9:
                self.died += 1
                self._note(f"died at {point}: {target}")
            else:
                self.kill(target)
                self.killed += 1
                self._note(f"killed {target} ({point} not reached)")
            self.points[target] = []
            self._start_armed(target)
        if self.error is not None:
            raise AssertionError(f"chaos failed after {self.done}") from self.error
