"""The link lifecycle: one transition table, and the only function that changes a link's state.

A hub holds at most one link per flow. Its state moves only through `advance`, which looks
the move up in `TRANSITIONS` and refuses anything else, so every path through the core
(creation, results, refusals, deletes) obeys the same table; tests walk every entry.

    (no link) --create_issued--> pending     the sync asked Custompms to create the twin
    pending   --created--------> linked      the create succeeded
    pending   --matched--------> claimed     the onboarding match found an existing record;
                                             nothing is written to it until the routing
                                             side accepts the claim
    claimed   --accepted-------> linked      nobody else owns it: the pair is linked
    claimed   --refused--------> (no link)   another hub owns it (or its own twin is being
                                             made): create a record of our own, unmatched
    linked    --refused--------> (no link)   (a late refusal of an accepted pair's claim)
    pending   --create_failed--> (no link)   the next reconcile tries again (next attempt)
    (no link) --upserted-------> linked      Salesforce twin of a Custompms record made
                                             (a redelivered result replaces the pair)
    linked    --detached-------> detached    a delete rule unlinked the pair; final
A pending or claimed link is not detached by a Salesforce delete: its create may still land
(or its claim be accepted), and then the delete rule applies at once, so nothing is left
behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from foundation.errors import SyncError
from streams.core.hub import Hub, LinkState, PmsLink

Trigger = Literal[
    "create_issued",
    "created",
    "matched",
    "accepted",
    "create_failed",
    "refused",
    "upserted",
    "detached",
]
TRIGGERS: tuple[Trigger, ...] = (
    "create_issued",
    "created",
    "matched",
    "accepted",
    "create_failed",
    "refused",
    "upserted",
    "detached",
)
STATES: tuple[LinkState | None, ...] = (None, "pending", "claimed", "linked", "detached")

TRANSITIONS: Mapping[tuple[LinkState | None, Trigger], LinkState | None] = {
    (None, "create_issued"): "pending",
    ("pending", "created"): "linked",
    ("pending", "matched"): "claimed",
    ("claimed", "accepted"): "linked",
    ("claimed", "refused"): None,
    ("pending", "create_failed"): None,
    ("linked", "refused"): None,
    (None, "upserted"): "linked",
    ("linked", "detached"): "detached",
}


class InvalidTransition(SyncError):
    """A move the link lifecycle does not allow (a stale or duplicated result)."""


def advance(hub: Hub, flow: str, trigger: Trigger, *, since: int | None = None) -> PmsLink | None:
    """Move the flow's link of `hub` by `trigger`; returns the link (None when removed).

    Raises InvalidTransition, leaving the hub untouched, for a move the table lacks."""
    link = hub.links.get(flow)
    state = link.state if link is not None else None
    if (state, trigger) not in TRANSITIONS:
        raise InvalidTransition(
            f"link of {flow} cannot go from {state or 'no link'} by {trigger}",
            flow=flow,
            record=hub.sf_id,
        )
    target = TRANSITIONS[(state, trigger)]
    if target is None:
        hub.links.pop(flow, None)
        return None
    if link is None:
        link = hub.links[flow] = PmsLink(flow=flow, state=target, since=since)
    else:
        link.state = target
    return link
