"""Folding a change into its hub: what the change did, and who wins each field it touched.

A change is compared with the known state of its side; the fields that differ are what the
change *did*. A field changed by a person becomes a candidate winner with the change's
source commit time; it wins if newer than the current winner (ties to the precedence
system). A change made by the sync (an echo) updates the known state and never wins.
"""

from __future__ import annotations

from foundation.errors import SyncError
from streams.core.creation import leave_scope, note_capture, onboarding_claims
from streams.core.deletes import detach, pms_deleted, sf_deleted
from streams.core.hub import SF, Hub, PmsLink, Winner
from streams.core.known import incoming, news
from streams.core.model import EXTERNAL_ID_FIELD, Change, Decision
from streams.core.reconcile import reconcile
from streams.core.rules import Rules
from streams.mapping.apply import get_path
from streams.mapping.table import Flow


def on_sf_change(hub: Hub | None, change: Change, rules: Rules, now: int) -> tuple[Hub, Decision]:
    """Fold a Salesforce change into its hub and decide the writes."""
    first_sight = hub is None
    if hub is None:
        # Only objects the sync ever creates in Salesforce can be born by it: a singleton
        # Organization last touched by the integration user is still a person's record.
        creatable = any(f.create_in_sf for f in rules.for_sf_object(change.entity))
        hub = Hub(
            sf_id=change.id, sf_object=change.entity, born_by_sync=change.by_sync and creatable
        )
    if change.record is not None and change.record.get(EXTERNAL_ID_FIELD) and not hub.links:
        # Created by the sync's upsert from a Custompms record; its link is on the way.
        hub.born_by_sync = True
    decision = Decision()
    if rules.replay and hub.sf_modstamp is not None and change.ts <= hub.sf_modstamp:
        reconcile(hub, rules, now, decision)
        return hub, decision
    if change.op == "d":
        sf_deleted(hub, rules, now, decision)
        return hub, decision
    if hub.deleted:
        decision.skipped = "record is deleted"
        return hub, decision
    if change.record is None:
        raise SyncError(
            f"Salesforce {change.entity} {change.id} changed (op {change.op}) but the change "
            "carries no record",
            flow=rules.flow_label(change.entity),
            record=change.id,
        )
    # The first sight of a record the sync did not make is its baseline: its values are what
    # a person wants, whoever touched it last (e.g. a snapshot of a record last saved by the
    # integration user before the sync ran).
    counts_as_person = not change.by_sync or (first_sight and not hub.born_by_sync)
    note_capture(hub, change)
    fresh: set[str] = set()
    label = rules.flow_label(change.entity)
    # A state older than one already folded (a backfill's read published after a newer
    # change; capture paths are not ordered with each other) says nothing new: its values
    # would move what is known, and the SystemModstamp the next write is conditional on,
    # back (a conflict then waits for a change already folded). Its capture tags and
    # onboarding decisions still count.
    older = hub.sf_modstamp is not None and change.ts < hub.sf_modstamp
    for name in [] if older else rules.sf_fields(hub.sf_object):
        value = incoming(change, name, change.record.get(name), label)
        if not news(hub.sf_known, hub.sf_stale, name, value):
            continue
        hub.sf_known[name] = value
        if counts_as_person:
            candidate = Winner(SF, change.ts, value)
            if rules.beats(candidate, hub.winners.get(name)):
                hub.winners[name] = candidate
                fresh.add(name)
    if not older:
        hub.sf_modstamp = change.ts
    onboarding_claims(hub, change, rules, now, decision)
    leave_scope(hub, rules, now, decision)
    reconcile(hub, rules, now, decision, fresh)
    return hub, decision


def on_pms_change(
    hub: Hub, flow_name: str, change: Change, rules: Rules, now: int
) -> tuple[Hub, Decision]:
    """Fold a change of the Custompms record linked by `flow_name` and decide the writes."""
    decision = Decision()
    flow = rules.flows[flow_name]
    link = hub.links.get(flow_name)
    if link is None or link.state != "linked" or link.pms_id != change.id:
        decision.skipped = f"{change.id} is not linked to {hub.sf_id} by {flow_name}"
        return hub, decision
    if rules.replay and link.modstamp is not None and change.ts <= link.modstamp:
        reconcile(hub, rules, now, decision)
        return hub, decision
    if change.op == "d":
        pms_deleted(hub, flow, link, change.ts, now, decision)
        return hub, decision
    if (
        flow.scope.when_leaving == "unlink"
        and change.record is not None
        and not flow.scope.pms_matches(change.record)
    ):
        # It left the flow's Custompms scope: unlinked, and this change is not carried.
        detach(hub, flow, link, now, decision)
        decision.skipped = f"{change.id} left {flow_name}'s Custompms scope"
        return hub, decision
    fold_pms_record(hub, flow, link, change, rules, now, decision)
    return hub, decision


def fold_pms_record(
    hub: Hub, flow: Flow, link: PmsLink, change: Change, rules: Rules, now: int, decision: Decision
) -> None:
    """Fold a Custompms record's state into its link: known values, winners, version."""
    if change.record is None:
        raise SyncError(
            f"{flow.name}: Custompms {change.entity} {change.id} changed (op {change.op}) "
            "but the change carries no record",
            flow=flow.name,
            record=change.id,
        )
    fresh: set[str] = set()
    for row in flow.rows:
        value = incoming(change, row.key, get_path(change.record, row.pms_field), flow.name)
        landed = link.landed.get(row.key)
        if landed is not None and change.version is not None and change.version >= landed:
            # Read after the sync's write landed: what it holds is news, whatever it was.
            link.stale.pop(row.key, None)
            link.landed.pop(row.key, None)
        if not news(link.known, link.stale, row.key, value):
            continue
        link.known[row.key] = value
        if row.writes_sf and row.sf_field is not None and not change.by_sync:
            candidate = Winner(flow.name, change.ts, value)
            if rules.beats(candidate, hub.winners.get(row.sf_field)):
                hub.winners[row.sf_field] = candidate
                fresh.add(row.sf_field)
    link.version = change.version
    link.modstamp = change.ts
    reconcile(hub, rules, now, decision, fresh)
