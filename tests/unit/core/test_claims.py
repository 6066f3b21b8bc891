"""Onboarding claims: an existing record is written only after the routing side accepts."""

from __future__ import annotations

from foundation.wire import LinkEvent, OpOutcome, WriteResult
from streams.core.events import (
    AnswerClaim,
    Forward,
    IssueWrite,
    LinkAccepted,
    LinkClaimed,
    WriteAcked,
)
from streams.core.hub import Hub, PmsLink, Winner
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
    (answer,) = [e for e in effects if isinstance(e, AnswerClaim) and e.link.link_key == "02d2"]
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


def _maker() -> Hub:
    """Division X, linked to the Customer it made (version 1), as its hub knows it."""
    hub = Hub(sf_id="02d1", sf_object="Division", sf_modstamp=10)
    hub.sf_known = {"Name": "Initech", "IsActive": True}
    hub.winners["IsActive"] = Winner("sf", 10, True)
    hub.winners["Name"] = Winner("sf", 10, "Initech")
    link = PmsLink(flow="division_customer", state="linked", pms_id="cus_1", version=1)
    link.known = {"name": "Initech", "active": True, "kind": "division"}
    hub.links["division_customer"] = link
    return hub


def test_the_maker_that_took_a_record_back_writes_its_values_again() -> None:
    """The claimant may have written to the record before it was taken back (the sync's
    own Custompms changes never come back through capture): the maker writes its values
    again, and a conflict's answer tells it what the record holds and at which version."""
    claimed, _ = step(None, claim("02d2"), RULES, 5)
    _, effects = step(claimed, claim("02d1", "linked"), RULES, 6)
    (back,) = [e for e in effects if isinstance(e, AnswerClaim) and e.link.link_key == "02d1"]
    assert back.link.action == "accepted"
    hub, effects = step(_maker(), LinkAccepted(back.link), RULES, 7)
    assert isinstance(hub, Hub) and hub.links["division_customer"].retaken
    (write,) = [e.command for e in effects if isinstance(e, IssueWrite)]
    (op,) = write.ops
    assert op.fields["active"] is True and op.if_match == 1
    moved = OpOutcome(flow="division_customer", entity="customer", action="update",
                      outcome="conflict", target_id="cus_1", version=2, written=dict(op.fields),
                      record={"id": "cus_1", "version": 2, "name": "Initech", "active": False,
                              "kind": "division"},
                      error="412 version_mismatch")  # fmt: skip
    answer = WriteResult(write.command_id, "02d1", "custompms", (moved,), acked_at=8)
    hub, effects = step(hub, WriteAcked(answer), RULES, 8)
    assert isinstance(hub, Hub) and not hub.links["division_customer"].retaken
    (again,) = [e.command for e in effects if isinstance(e, IssueWrite)]
    assert again.ops[0].fields == {"active": True} and again.ops[0].if_match == 2
