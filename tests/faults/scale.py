"""How big the fault tests run: reduced in `make test`, full with `make faults-full`.

Every run draws a new seed (printed at the start and end of the run and in every failure);
SFPMS_FAULTS_SEED=<seed> replays one. `make faults-full` sets SFPMS_FAULTS_FULL=1;
SFPMS_FAULTS_RACE_GUARD=0/1 overrides the race guard (tests/faults/workload.py; on in the
reduced form, off in the full form, where people edit both sides concurrently). Read
through pydantic-settings like every other setting (nothing reads os.environ directly).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class FaultsSettings(BaseSettings):
    """SFPMS_FAULTS_FULL, SFPMS_FAULTS_SEED."""

    model_config = SettingsConfigDict(env_prefix="SFPMS_FAULTS_", extra="ignore")

    full: bool = False
    seed: int | None = None
    race_guard: bool | None = None


@dataclass(frozen=True, slots=True)
class Scale:
    """Workload size and fault counts of one form of the suite."""

    full: bool
    seed: int
    ops: int
    kills_each: int
    settle_timeout: float
    pause: tuple[float, float]
    race_guard: bool = True
    #: Deaths at kill points per target (foundation/killpoints.py), on top of `kills_each`.
    points_each: int = 0
    #: Kills (SIGKILL and kill points) the kill test must have survived.
    min_kills: int = 0

    def rng_seed(self, test: str) -> str:
        """A per-test seed (random.Random accepts a string), stable across runs."""
        return f"{self.seed}:{test}"


@cache
def run_seed() -> int:
    """This run's seed: SFPMS_FAULTS_SEED, else a new one (the same for every test of a run)."""
    chosen = FaultsSettings().seed
    return chosen if chosen is not None else secrets.randbelow(10**9)


def scale() -> Scale:
    """The form selected by the environment (reduced unless SFPMS_FAULTS_FULL=1)."""
    settings = FaultsSettings()
    guard = settings.race_guard
    if settings.full:
        return Scale(
            True,
            run_seed(),
            ops=240,
            # 36 kill -9 and up to 24 kill points: a kill -9 that lands on an armed
            # process before it reaches its point costs that point, and with 9 a target
            # (27 + 24 = 51 at most) two runs fell short of 50 (44 and 48) while the sync
            # passed them.
            kills_each=12,
            settle_timeout=300.0,
            pause=(0.05, 0.5),
            race_guard=False if guard is None else guard,
            points_each=8,
            min_kills=50,
        )
    return Scale(
        False,
        run_seed(),
        ops=48,
        kills_each=2,
        settle_timeout=120.0,
        pause=(0.05, 0.35),
        race_guard=True if guard is None else guard,
        points_each=3,
        min_kills=10,
    )


def replay_hint() -> str:
    """How to run this seed again."""
    full = "SFPMS_FAULTS_FULL=1 " if FaultsSettings().full else ""
    return f"fault seed {run_seed()}; replay: {full}SFPMS_FAULTS_SEED={run_seed()}"
