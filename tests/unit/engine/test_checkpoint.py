"""The commit order of an engine batch: outputs acknowledged, then state stored; a failure
to produce discards the state and stops the worker before Faust acknowledges the batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

import pytest

from streams.engine.checkpoint import Checkpoint
from streams.engine.topology import Outgoing

RECORD = Outgoing("custompms.writes", b"00T1", b"command")


class Stopped(Exception):
    pass


class Steps:
    def __init__(self, fail_at: str | None = None) -> None:
        self.fail_at = fail_at
        self.done: list[str] = []

    # the output
    def send(self, records: Sequence[Outgoing]) -> None:
        self._step("send")

    async def flush(self) -> None:
        self._step("flush")

    # the overlay
    def apply(self) -> None:
        self.done.append("apply")

    def discard(self) -> None:
        self.done.append("discard")

    def stop(self, exc: BaseException) -> NoReturn:
        self.done.append(f"stop: {exc}")
        raise Stopped

    def _step(self, name: str) -> None:
        if name == self.fail_at:
            raise RuntimeError(f"{name} failed")
        self.done.append(name)


async def test_state_is_stored_only_after_the_outputs_are_acknowledged() -> None:
    steps = Steps()
    await Checkpoint(steps, steps.stop).commit([RECORD], steps)
    assert steps.done == ["send", "flush", "apply"]


@pytest.mark.parametrize("failing", ["send", "flush"])
async def test_outputs_that_fail_discard_the_state_and_stop_the_worker(failing: str) -> None:
    steps = Steps(fail_at=failing)
    with pytest.raises(Stopped):
        await Checkpoint(steps, steps.stop).commit([RECORD], steps)
    assert "apply" not in steps.done
    assert steps.done[-2:] == ["discard", f"stop: {failing} failed"]
