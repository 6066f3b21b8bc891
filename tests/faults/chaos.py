"""kill -9 at seeded moments: a schedule of kills and restarts run in its own thread.

`kill_schedule(rng, targets, duration, kills_each)` draws, for every target, the moments
(seconds after the start) at which it is killed and how long it stays down. `Chaos` runs
the schedule against the live stack while the workload runs in the test's thread: it kills
a process by PID (SIGKILL) and starts it again with the same command line (and so the same
static group instance id). Events run one after the other, so a process is never killed
while it is being restarted.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
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
    """`kills_each` kills per target between 10 % and 85 % of `duration`, spaced apart."""
    kills: list[Kill] = []
    for target in targets:
        slots = sorted(rng.uniform(0.1, 0.85) * duration for _ in range(kills_each))
        kills += [Kill(at, target, rng.uniform(0.2, 2.0)) for at in slots]
    return sorted(kills, key=lambda k: k.at)


class Chaos:
    """Runs a kill schedule in a daemon thread; `join` re-raises anything that went wrong."""

    def __init__(
        self,
        schedule: Sequence[Kill],
        kill: Callable[[str], None],
        start: Callable[[str], None],
    ) -> None:
        self.schedule = list(schedule)
        self.kill = kill
        self.start = start
        self.done: list[str] = []
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="chaos", daemon=True)
        self._stop = threading.Event()

    def begin(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        began = time.monotonic()
        try:
            for event in self.schedule:
                wait = began + event.at - time.monotonic()
                if wait > 0 and self._stop.wait(wait):
                    return
                self.kill(event.target)
                self.done.append(f"{time.monotonic() - began:6.1f}s kill {event.target}")
                time.sleep(event.down)
                self.start(event.target)
                self.done.append(f"{time.monotonic() - began:6.1f}s start {event.target}")
        except BaseException as exc:  # re-raised in the test's thread by join()
            self.error = exc

    def abort(self) -> None:
        """Skip the events not yet due (the test failed; the stack is being torn down)."""
        self._stop.set()
        self._thread.join(30)

    def join(self, timeout: float = 120.0) -> None:
        """Wait until every event has run (the schedule ends before the workload does)."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"chaos schedule did not finish in {timeout}s: {self.done}")
        if self.error is not None:
            raise AssertionError(f"chaos failed after {self.done}") from self.error
