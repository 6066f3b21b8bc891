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

    def renew(self) -> None:
        self.done.append("renew")

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
async def test_outputs_that_keep_failing_discard_the_state_and_stop_the_worker(
    failing: str,
) -> None:
    steps = Steps(fail_at=failing)
    with pytest.raises(Stopped):
        await Checkpoint(steps, steps.stop).commit([RECORD], steps)
    assert "apply" not in steps.done
    assert steps.done.count("renew") == 2, "each failed attempt but the last gets a new producer"
    assert steps.done[-2:] == ["discard", f"stop: {failing} failed"]


async def test_a_producer_that_fails_once_is_replaced_and_the_batch_sent_again() -> None:
    steps = Steps(fail_at="flush")
    original = steps._step

    def once(name: str) -> None:
        if name == "flush" and "renew" in steps.done:
            steps.fail_at = None
        original(name)

    steps._step = once  # type: ignore[method-assign]
    await Checkpoint(steps, steps.stop).commit([RECORD], steps)
    assert steps.done == ["send", "renew", "send", "flush", "apply"]
