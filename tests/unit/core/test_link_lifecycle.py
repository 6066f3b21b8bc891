"""The link lifecycle table, walked entry by entry: every move it allows, and no other."""

from __future__ import annotations

import copy
import itertools

import pytest

from streams.core import lifecycle
from streams.core.hub import Hub, PmsLink
from streams.core.lifecycle import STATES, TRANSITIONS, TRIGGERS, InvalidTransition

FLOW = "task_project"


def hub_in(state: str | None) -> Hub:
    hub = Hub("00T000000000001", "Task")
    if state is not None:
        hub.links[FLOW] = PmsLink(FLOW, state, "prj_1" if state != "pending" else None)  # type: ignore[arg-type]
    return hub


@pytest.mark.parametrize(("state", "trigger"), list(itertools.product(STATES, TRIGGERS)))
def test_every_state_and_trigger_follows_the_table(state: str | None, trigger: str) -> None:
    hub = hub_in(state)
    before = copy.deepcopy(hub)
    if (state, trigger) in TRANSITIONS:
        link = lifecycle.advance(hub, FLOW, trigger, since=5)  # type: ignore[arg-type]
        expected = TRANSITIONS[(state, trigger)]  # type: ignore[index]
        assert (link.state if link else None) == expected
        assert (hub.links[FLOW].state if FLOW in hub.links else None) == expected
        if state is not None and expected is not None:
            assert hub.links[FLOW].pms_id == before.links[FLOW].pms_id, "the pair is kept"
    else:
        with pytest.raises(InvalidTransition, match=FLOW):
            lifecycle.advance(hub, FLOW, trigger)  # type: ignore[arg-type]
        assert hub == before, "a refused move leaves the hub untouched"


def test_detached_is_final() -> None:
    assert not [move for move in TRANSITIONS if move[0] == "detached"]


def test_a_new_link_records_when_it_started() -> None:
    hub = hub_in(None)
    link = lifecycle.advance(hub, FLOW, "create_issued", since=42)
    assert link is not None and (link.state, link.since) == ("pending", 42)


def test_every_state_but_the_start_is_reachable_and_every_trigger_is_used() -> None:
    assert {target for target in TRANSITIONS.values()} == set(STATES)
    assert {trigger for _state, trigger in TRANSITIONS} == set(TRIGGERS)
