"""Reconciliation: after every input, write what differs between desired and known state.

Every field whose desired value differs from the value its side holds is written, and
nothing else; twins that should exist are created. An echo finds desired == known and writes
nothing, but a Project edit that changed the Salesforce Task's winner also reaches the
Custompms Task linked to the same Salesforce Task. Writes only follow from winners, which
only change on people's edits, so this converges and cannot loop.
"""

from __future__ import annotations

from collections.abc import Iterable

from streams.core.creation import creation_order, maybe_create
from streams.core.desired import Problems, baseline_winners, pms_desired, sf_desired
from streams.core.hub import SF, Hub, PmsLink
from streams.core.known import MISSING, issue
from streams.core.model import Decision, WriteIntent
from streams.core.rules import Rules
from streams.core.values import Scalar
from streams.mapping.table import Flow


def reconcile(
    hub: Hub, rules: Rules, now: int, decision: Decision, fresh: Iterable[str] = ()
) -> None:
    """Write every field whose desired value differs from what its side holds; create the
    linked records that should exist. `fresh` names fields whose winner just changed:
    conversion problems are reported for those only, so one bad value is reported once."""
    if hub.deleted:
        return
    baseline_winners(hub, rules)
    fresh = set(fresh)
    problems: Problems = {}
    sf_wanted = sf_desired(hub, rules, problems)
    # Salesforce-won fields are included: an echo of an older sync write may have landed
    # after a person's newer edit, and then the person's value must be written back.
    writable = rules.sf_writable(hub.sf_object)
    sf_patch = {
        name: value
        for name, value in sf_wanted.items()
        if name in writable and hub.sf_known.get(name, MISSING) != value
    }
    if sf_patch and hub.born_by_sync and hub.sf_modstamp is None:
        # A twin the sync made whose Salesforce changes have not arrived yet: its values are
        # not known (a replayed upsert leaves a live twin as it is, and a person may have
        # edited it), so writes wait for its changes, which always come (at least its
        # create), as Custompms writes wait for a known version.
        sf_patch = {}
    if sf_patch:
        issue(hub.sf_known, hub.sf_stale, sf_patch)
        sources = [hub.winners[name].source for name in sf_patch]
        flows = rules.for_sf_object(hub.sf_object)
        label = next((s for s in sources if s != SF), flows[0].name if flows else SF)
        decision.writes.append(
            WriteIntent(
                flow=label,
                link_key=hub.sf_id,
                system="salesforce",
                entity=hub.sf_object,
                action="update",
                target_id=hub.sf_id,
                fields=sf_patch,
                if_match=hub.sf_modstamp,
            )
        )
    for flow in creation_order(rules.for_sf_object(hub.sf_object)):
        link = hub.links.get(flow.name)
        if link is None:
            maybe_create(hub, flow, rules, sf_wanted, now, decision, problems)
        elif link.state == "linked" and link.version is not None:
            # Custompms writes are conditional on the version this hub saw (If-Match); a link
            # whose version is not known yet (a Custompms record's new Salesforce twin, until
            # its parked changes arrive) waits, rather than risk overwriting a person's edit.
            patch = _pms_patch(hub, flow, link, sf_wanted, problems)
            if patch:
                issue(link.known, link.stale, patch)
                for key in patch:  # a new write in flight: stale until its own answer
                    link.landed.pop(key, None)
                decision.writes.append(
                    WriteIntent(
                        flow=flow.name,
                        link_key=hub.sf_id,
                        system="custompms",
                        entity=flow.pms_resource,
                        action="update",
                        target_id=link.pms_id,
                        fields=patch,
                        if_match=link.version,  # skipped (conflict) if someone changed it since
                    )
                )
    decision.problems.extend(
        p for (source, name), p in problems.items() if name in fresh or source.startswith("create:")
    )


def _pms_patch(
    hub: Hub,
    flow: Flow,
    link: PmsLink,
    sf_wanted: dict[str, Scalar],
    problems: Problems,
) -> dict[str, Scalar]:
    desired = pms_desired(hub, flow, sf_wanted, problems, link.pms_id or hub.sf_id)
    return {k: v for k, v in desired.items() if link.known.get(k, MISSING) != v}
