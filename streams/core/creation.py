"""Creating twins: a Salesforce record a person made gets its Custompms record per flow.

Who may create (the Custompms side's rules are in `streams.core.routes`):
- only records in the flow's Salesforce scope (the capture's tags, `note_capture`); a
  linked record that leaves the scope keeps its link, or is unlinked under `unlink`
  (`leave_scope`);
- a record that existed before the sync first started creates nothing in a flow that
  waits for onboarding, until `sfpms onboard` releases it (`Rules.waits_for_onboarding`);
  onboarding's matched pairs are linked as they arrive (`onboarding_links`);
- a value a row's table does not know (drift) leaves only that field out of the create.
"""

from __future__ import annotations

from collections.abc import Mapping

from streams.core import lifecycle
from streams.core.deletes import detach
from streams.core.desired import Problems, pms_desired
from streams.core.hub import Hub
from streams.core.model import Change, Decision, LinkChange, WriteIntent
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


def onboarding_links(hub: Hub, change: Change, rules: Rules, now: int, decision: Decision) -> None:
    """Link the pairs `sfpms onboard` matched for this record, where the flow has no link
    yet (one the live sync made since the plan stands)."""
    if change.onboarding is None:
        return
    for name, pms_id in sorted(change.onboarding.link.items()):
        flow = rules.flows.get(name)
        if flow is None or flow.sf_object != hub.sf_object or name in hub.links:
            continue
        link = lifecycle.advance(hub, name, "matched", since=now)
        assert link is not None
        link.pms_id = pms_id
        decision.links.append(LinkChange(pms_id, flow.pms_resource, hub.sf_id, name, "linked"))


def leave_scope(hub: Hub, rules: Rules, decision: Decision) -> None:
    """A linked record out of its flow's Salesforce scope: `unlink` detaches the pair (both
    records stay as they are); `keep` changes nothing."""
    for flow in rules.for_sf_object(hub.sf_object):
        link = hub.linked(flow.name)
        leaving = link is not None and flow.name in hub.out_of_scope
        if leaving and link is not None and flow.scope.when_leaving == "unlink":
            detach(hub, flow, link, decision)


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
    if any(hub.linked(other) is None for _ref, other in flow.requires):
        return  # the reference (e.g. the Project of a Task) is not linked yet
    local: Problems = {}
    fields = pms_desired(hub, flow, sf_wanted, local, hub.sf_id)
    for key, problem in local.items():
        problems[("create", key[1])] = problem
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
        )
    )
