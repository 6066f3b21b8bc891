"""Test-only kill points: a process kills itself with SIGKILL at a named point in its work.

The fault suite aims kills at the windows that matter (after the engine's output flush and
before its state is stored; after a sink's HTTP acknowledgement and before its offsets are
committed) instead of hoping a random kill lands there. A process reads its point from
`SFPMS_KILL_POINT=<name>[@<n>]`: it dies the n-th time (default 1st) it reaches `<name>`.
Unset, `reached` is one attribute test, so production pays nothing for it.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

#: The points the product marks; tests name one of these.
POINTS = (
    "engine.after_flush",  # outputs acknowledged by the broker, state not yet stored
    "engine.after_store",  # state stored, offsets not yet committed
    "sink.after_apply",  # the target system acknowledged the writes, results not produced
    "sink.after_results",  # results acknowledged by the broker, offsets not committed
    "cdc.after_publish",  # envelopes acknowledged, source position not yet stored
)


@dataclass
class _Armed:
    name: str
    remaining: int


_armed: _Armed | None = None
_loaded = False


def arm(spec: str | None) -> None:
    """Arm the kill point `spec` (`name[@n]`), or disarm with None."""
    global _armed, _loaded
    _loaded = True
    if not spec:
        _armed = None
        return
    name, _, count = spec.partition("@")
    if name not in POINTS:
        raise ValueError(f"unknown kill point {name!r}; known: {', '.join(POINTS)}")
    _armed = _Armed(name, int(count) if count else 1)


def reached(name: str) -> None:
    """Mark that the process reached `name`; dies here if that point is armed and due."""
    if not _loaded:
        from foundation.settings import get_settings

        arm(get_settings().kill_point)
    armed = _armed
    if armed is None or armed.name != name:
        return
    armed.remaining -= 1
    if armed.remaining <= 0:
        os.kill(os.getpid(), signal.SIGKILL)
