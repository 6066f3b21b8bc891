"""How big the fault tests run: reduced in `make test`, full with `make faults-full`.

`make faults-full` sets SFPMS_FAULTS_FULL=1; SFPMS_FAULTS_SEED replays another seed;
SFPMS_FAULTS_RACE_GUARD=0/1 overrides the race guard (tests/faults/workload.py; on in the
reduced form, off in the full form, where people edit both sides concurrently). Read
through pydantic-settings like every other setting (nothing reads os.environ directly).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic_settings import BaseSettings, SettingsConfigDict

#: The seed of record (docs/faults.md); each test derives its own from it.
DEFAULT_SEED = 20260611


class FaultsSettings(BaseSettings):
    """SFPMS_FAULTS_FULL, SFPMS_FAULTS_SEED."""

    model_config = SettingsConfigDict(env_prefix="SFPMS_FAULTS_", extra="ignore")

    full: bool = False
    seed: int = DEFAULT_SEED
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

    def rng_seed(self, test: str) -> str:
        """A per-test seed (random.Random accepts a string), stable across runs."""
        return f"{self.seed}:{test}"


def scale() -> Scale:
    """The form selected by the environment (reduced unless SFPMS_FAULTS_FULL=1)."""
    settings = FaultsSettings()
    guard = settings.race_guard
    if settings.full:
        return Scale(
            True,
            settings.seed,
            ops=240,
            kills_each=3,
            settle_timeout=300.0,
            pause=(0.05, 0.5),
            race_guard=False if guard is None else guard,
        )
    return Scale(
        False,
        settings.seed,
        ops=36,
        kills_each=1,
        settle_timeout=120.0,
        pause=(0.05, 0.35),
        race_guard=True if guard is None else guard,
    )
