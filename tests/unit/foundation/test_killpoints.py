"""Kill points: armed by name and count, inert otherwise."""

from __future__ import annotations

import subprocess
import sys

import pytest

from foundation import killpoints


def test_an_unknown_point_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"engine\.after_flush"):
        killpoints.arm("engine.nowhere")


def test_a_disarmed_point_does_nothing() -> None:
    killpoints.arm(None)
    killpoints.reached("engine.after_flush")  # still alive


@pytest.mark.parametrize(("spec", "survived"), [("sink.after_apply@3", 2), ("sink.after_apply", 0)])
def test_an_armed_point_kills_the_process_the_nth_time(spec: str, survived: int) -> None:
    script = (
        "import sys\n"
        "from foundation import killpoints\n"
        "for i in range(5):\n"
        "    killpoints.reached('sink.after_apply')\n"
        "    print(i, flush=True)\n"
    )
    env = {"SFPMS_KILL_POINT": spec, "PATH": ""}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == -9
    assert done.stdout.split() == [str(i) for i in range(survived)]
