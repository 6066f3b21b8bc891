"""Creating twins: a Salesforce record a person made gets its Custompms record per flow.

A flow whose record refers to another flow's record (a Task's project_id names the Project
of the same Salesforce Task) waits until that reference is linked, or travels with its
create: both creates then go to Custompms in one command, the Task's field filled with the
id the Project's create gets (`WriteIntent.refs`).

Who may create (the Custompms side's rules are in `streams.core.routes`):
- only records in the flow's Salesforce scope (the capture's tags, `note_capture`); a
  linked record that leaves the scope keeps its link, or is unlinked under `unlink`
  (`leave_scope`);
- a record that existed before the sync first started creates nothing in a flow that
  waits for onboarding, until `sfpms onboard` releases it (`Rules.waits_for_onboarding`);
  the pairs onboarding matched are claimed like any match (`onboarding_claims`): linked
  only once the routing side accepts, so one Custompms record never gets two hubs;
- a value a row's table does not know (drift) leaves only that field out of the create.
"""

from __future__ import annotations

from collections.abc import Mapping

from streams.core import lifecycle
from streams.core.deletes import detach
from streams.core.desired import Problems, pms_desired
from streams.core.hub import Hub
from streams.core.model import Change, Decision, LinkEvent, WriteIntent
from streams.core.rules import Rules
from streams.core.values import Scalar
from streams.mapping.table import Flow

#: The error class of a value a row's table does not know: it never blocks a create.
DRIFT = "UnknownValue"


def note_capture(hub: Hub, change: Change) -> None:
    """Keep what the capture says about the record: its creation time, which flows' scopes
    it is out of, and the flows onboarding released it in."""
    if change.created_ts is not None:
        hub.created_ts = change.created_ts
    if change.scope is not None and change.op != "d":
        hub.out_of_scope = sorted(flow for flow, inside in change.scope.items() if not inside)
    if change.onboarding is not None:
        hub.released = sorted({*hub.released, *change.onboarding.create})


def onboarding_claims(hub: Hub, change: Change, rules: Rules, now: int, decision: Decision) -> None:
    """Claim the Custompms records `sfpms onboard` matched with this one, where the flow has
    no link yet (one the live sync made since the plan stands). As for a match a create
    found, nothing is written to the record until the routing side accepts the claim
    (`results.link_accepted`); refused (another hub owns it), the flow stays unlinked and,
    the record being older than the sync, waits for the next onboarding."""
    if change.onboarding is None:
        return
    for name, pms_id in sorted(change.onboarding.link.items()):
        flow = rules.flows.get(name)
        if flow is None or flow.sf_object != hub.sf_object or name in hub.links:
            continue
        link = lifecycle.advance(hub, name, "matched", since=now)
        assert link is not None
        link.pms_id = pms_id
        decision.links.append(LinkEvent(pms_id, flow.pms_resource, hub.sf_id, name, "claimed", now))


def leave_scope(hub: Hub, rules: Rules, now: int, decision: Decision) -> None:
    """A linked record out of its flow's Salesforce scope: `unlink` detaches the pair (both
    records stay as they are); `keep` changes nothing."""
    for flow in rules.for_sf_object(hub.sf_object):
        link = hub.linked(flow.name)
        leaving = link is not None and flow.name in hub.out_of_scope
        if leaving and link is not None and flow.scope.when_leaving == "unlink":
            detach(hub, flow, link, now, decision)


def maybe_create(
    hub: Hub,
    flow: Flow,
    rules: Rules,
    sf_wanted: Mapping[str, Scalar],
    now: int,
    decision: Decision,
    problems: Problems,
) -> None:
    """Create the flow's Custompms record for a Salesforce record a person made."""
    if not flow.create_in_pms or hub.born_by_sync or flow.name in hub.out_of_scope:
        return
    if rules.waits_for_onboarding(flow, hub.created_ts, hub.released):
        return  # it predates the sync: `sfpms onboard` pairs or releases it
    refs: dict[str, str] = {}
    for ref_key, other in flow.requires:
        if hub.linked(other) is not None:
            continue  # desired state carries the linked record's id
        if not _created_with(decision, other):
            return  # the reference is neither linked nor created with this record
        refs[ref_key] = other
    local: Problems = {}
    fields = pms_desired(hub, flow, sf_wanted, local, hub.sf_id)
    for key, problem in local.items():
        problems[(f"create:{flow.name}", key[1])] = problem
    if any(problem.error_class != DRIFT for problem in local.values()):
        return
    attempt = hub.create_attempts.get(flow.name, 0)
    lifecycle.advance(hub, flow.name, "create_issued", since=now)
    decision.writes.append(
        WriteIntent(
            flow=flow.name,
            link_key=hub.sf_id,
            system="custompms",
            entity=flow.pms_resource,
            action="create",
            fields=fields,
            match={}
            if flow.name in hub.no_match
            else {k: str(fields[k]) for k in flow.match_on if fields.get(k) is not None},
            idempotency_key=f"{flow.name}:{hub.sf_id}:create:{attempt}",
            refs=refs,
        )
    )


def creation_order(flows: tuple[Flow, ...]) -> tuple[Flow, ...]:
    """Flows ordered so that a flow comes after the flows its records refer to."""
    return tuple(sorted(flows, key=lambda flow: len(flow.requires)))


def _created_with(decision: Decision, flow: str) -> bool:
    return any(
        w.system == "custompms" and w.action == "create" and w.flow == flow for w in decision.writes
    )
