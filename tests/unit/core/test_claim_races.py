"""Claims racing the link of the hub that made the record (docs/faults.md, Found 16)."""

from __future__ import annotations

from streams.core.rules import Rules
from streams.mapping.flows import FLOWS
from tests.support.world import World

RULES = Rules(FLOWS)


def test_a_create_time_match_never_claims_a_record_the_sync_made_for_another() -> None:
    """The state machine with lost answers: Division X's Customer was created (the engine
    crashed after deciding it, the sink's answer was lost); Division Y, same name, matched
    that Customer and claimed it before X's link arrived. X's values then overwrote Y's."""
    world = World(rules=RULES)
    y = world.sf_person_create("Division", {"Name": "Initech", "IsActive": False})
    x = world.sf_person_create("Division", {"Name": "Initech", "IsActive": True})
    world.deliver(("sf-cdc", x))
    world.crash()
    world.lose_answer(("writes", x))
    world.drain()
    for sf_id in (x, y):
        link = world.hubs[sf_id].linked("division_customer")
        assert link is not None and link.pms_id is not None
        assert world.pms[link.pms_id]["active"] is world.sf[sf_id]["IsActive"], sf_id
