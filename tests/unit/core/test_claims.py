"""Onboarding claims: an existing record is written only after the routing side accepts."""

from __future__ import annotations

from foundation.wire import LinkEvent
from streams.core.events import AnswerClaim, Forward, LinkClaimed
from streams.core.routes import Route
from streams.core.rules import Rules
from streams.core.step import step
from streams.mapping.flows import FLOWS

RULES = Rules(FLOWS)


def claim(hub: str, action: str = "claimed") -> LinkClaimed:
    return LinkClaimed(LinkEvent("cus_1", "customer", hub, "division_customer", action, 1))  # type: ignore[arg-type]


def test_an_unseen_record_is_accepted_and_its_parked_changes_follow_the_answer() -> None:
    route, effects = step(Route("awaiting", parked=[b"edit"]), claim("02d1"), RULES, 5)
    assert isinstance(route, Route) and (route.state, route.link_key) == ("linked", "02d1")
    answer, forward = effects
    assert isinstance(answer, AnswerClaim) and answer.link.action == "accepted"
    assert isinstance(forward, Forward) and forward.raw == b"edit"


def test_a_record_another_hub_owns_is_refused_and_kept() -> None:
    owned = Route("linked", "02d1", "division_customer")
    route, effects = step(owned, claim("02d2"), RULES, 5)
    assert route == owned
    (answer,) = [e for e in effects if isinstance(e, AnswerClaim)]
    assert (answer.link.action, answer.link.link_key) == ("refused", "02d2")
    assert "02d1" in (answer.link.reason or "")


def test_a_detached_record_is_never_linked_again() -> None:
    detached = Route("detached", "02d1", "division_customer")
    for action in ("claimed", "linked"):
        route, effects = step(detached, claim("02d2", action), RULES, 5)
        assert route == detached
        assert [e.link.action for e in effects if isinstance(e, AnswerClaim)] == ["refused"]


def test_a_record_whose_twin_is_being_created_can_be_claimed() -> None:
    route, effects = step(Route("creating", parked=[b"create"]), claim("02d1"), RULES, 5)
    assert isinstance(route, Route) and route.state == "linked"
    assert [type(e).__name__ for e in effects] == ["AnswerClaim", "Forward"]


def test_the_hub_that_made_a_record_takes_it_back_from_a_match_claim() -> None:
    """docs/faults.md Found 16: a create-time match claimed a record the sync had made for
    another hub, whose link was late (its answer lost). The maker wins; the claimant is
    refused, and makes a record of its own."""
    claimed, _ = step(None, claim("02d2"), RULES, 5)
    assert isinstance(claimed, Route) and claimed.claimed
    assert Route.from_json(claimed.to_json()) == claimed
    route, effects = step(claimed, claim("02d1", "linked"), RULES, 6)
    assert isinstance(route, Route) and (route.state, route.link_key) == ("linked", "02d1")
    assert not route.claimed, "the maker's link is never taken back"
    (answer,) = [e for e in effects if isinstance(e, AnswerClaim)]
    assert (answer.link.action, answer.link.link_key) == ("refused", "02d2")
    assert "02d1" in (answer.link.reason or "")


def test_a_claim_settled_by_its_twins_upsert_is_not_taken_back() -> None:
    """A person's record whose Salesforce twin is being created: the upsert's link comes
    from the twin, which did not make the Custompms record; the claim stays (the upsert
    adopts the claimant by the same match)."""
    claimed, _ = step(Route("creating", parked=[b"create"]), claim("02d2"), RULES, 5)
    assert isinstance(claimed, Route) and not claimed.claimed
    route, _ = step(claimed, claim("02d1", "linked"), RULES, 6)
    assert isinstance(route, Route) and route.link_key == "02d2"
