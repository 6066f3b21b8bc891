"""The rolling API usage window, on a fake clock."""

from __future__ import annotations

import pytest

from emulators.salesforce.errors import ApiError
from emulators.salesforce.limits import ApiLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_calls_count_until_the_limit_then_are_refused() -> None:
    limits = ApiLimits(2, 100.0, clock=Clock())
    limits.consume()
    limits.consume()
    with pytest.raises(ApiError) as refused:
        limits.consume()
    assert (refused.value.status, refused.value.items[0].code) == (403, "REQUEST_LIMIT_EXCEEDED")
    assert limits.header() == "api-usage=2/2"


def test_the_window_rolls_call_by_call_not_all_at_once() -> None:
    clock = Clock()
    limits = ApiLimits(10, 1440.0, clock=clock)  # one-second slices
    limits.consume()
    clock.now += 720
    limits.consume()
    clock.now += 721  # the first call is now more than a window old
    assert limits.used == 1
    clock.now += 720
    assert limits.used == 0


def test_advance_set_and_reset() -> None:
    limits = ApiLimits(10, 60.0, clock=Clock())
    limits.set(used=7)
    assert limits.snapshot() == {"Max": 10, "Remaining": 3}
    limits.advance(61)
    assert limits.used == 0
    limits.set(used=4, limit=5)
    limits.reset()
    assert limits.snapshot() == {"Max": 5, "Remaining": 5}


def test_a_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        ApiLimits(1, 0)
