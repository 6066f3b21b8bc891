"""Results: what a sink reports it wrote, folded back into the hub.

Creates establish links (and bring the twin's first known state), updates confirm what the
target holds, failures forget what was optimistically known so the next change writes
again, conflicts wait for (or fold) the person's change that caused them.
"""

from __future__ import annotations

from foundation.errors import SyncError
from streams.core import lifecycle
from streams.core.deletes import apply_sf_delete_rule
from streams.core.hub import Hub, PmsLink
from streams.core.model import Decision, LinkChange, Problem, WriteOutcome
from streams.core.reconcile import reconcile
from streams.core.rules import Rules
from streams.core.values import canonical
from streams.mapping.table import Flow


def on_outcome(
    hub: Hub | None, outcome: WriteOutcome, rules: Rules, now: int
) -> tuple[Hub | None, Decision]:
    """Fold a sink's result: establish links, record versions, forget failed writes."""
    decision = Decision()
    flow = rules.flows.get(outcome.flow)
    if flow is None:
        decision.skipped = f"unknown flow {outcome.flow}"
        return hub, decision
    if outcome.system == "salesforce" and outcome.action == "upsert":
        return sf_created(hub, flow, outcome, rules, now, decision)
    if hub is None:
        decision.skipped = "no link state for this result"
        return hub, decision
    if outcome.rejected:
        link_refused(hub, flow, outcome.target_id, rules, now, decision)
    elif outcome.conflict:
        _write_conflict(hub, outcome, rules, now, decision)
    elif outcome.system == "custompms" and outcome.action == "create":
        pms_created(hub, flow, outcome, rules, now, decision)
    elif not outcome.ok:
        _forget_written(hub, flow, outcome)
    elif outcome.action == "update":
        _record_written(hub, flow, outcome)
    return hub, decision


def pms_created(
    hub: Hub, flow: Flow, outcome: WriteOutcome, rules: Rules, now: int, decision: Decision
) -> None:
    """The flow's Custompms twin was created (or matched): link it, or try again later."""
    link = hub.links.get(flow.name)
    if link is None or link.state != "pending":
        decision.skipped = f"no pending create for {flow.name}"
        return
    if not outcome.ok or outcome.target_id is None:
        lifecycle.advance(hub, flow.name, "create_failed")
        hub.create_attempts[flow.name] = hub.create_attempts.get(flow.name, 0) + 1
        decision.skipped = f"create failed: {outcome.error}"
        return
    lifecycle.advance(hub, flow.name, "created")
    link.pms_id = outcome.target_id
    link.known = {k: canonical(v) for k, v in outcome.written.items()}
    link.version, link.modstamp = outcome.version, outcome.modstamp
    decision.links.append(
        LinkChange(outcome.target_id, flow.pms_resource, hub.sf_id, flow.name, "linked")
    )
    if hub.deleted:
        apply_sf_delete_rule(hub, flow, link, decision)
        return
    reconcile(hub, rules, now, decision)


def link_refused(
    hub: Hub, flow: Flow, pms_id: str | None, rules: Rules, now: int, decision: Decision
) -> None:
    """The onboarding match linked a Custompms record another Salesforce record owns already:
    drop that link and create a record of our own, this time without matching."""
    link = hub.links.get(flow.name)
    if link is None or link.pms_id != pms_id:
        decision.skipped = "refused link is not ours"
        return
    try:
        lifecycle.advance(hub, flow.name, "refused")
    except SyncError as exc:
        decision.skipped = exc.describe()
        return
    if flow.name not in hub.no_match:
        hub.no_match.append(flow.name)
    hub.create_attempts[flow.name] = hub.create_attempts.get(flow.name, 0) + 1
    reconcile(hub, rules, now, decision)


def sf_created(
    hub: Hub | None,
    flow: Flow,
    outcome: WriteOutcome,
    rules: Rules,
    now: int,
    decision: Decision,
) -> tuple[Hub | None, Decision]:
    """A Salesforce record was upserted for a Custompms record a person made."""
    pms_id = outcome.external_id
    assert pms_id is not None, "an upsert result names the Custompms id it was keyed by"
    if not outcome.ok or outcome.target_id is None:
        decision.links.append(
            LinkChange(pms_id, flow.pms_resource, outcome.link_key, flow.name, "unlinked")
        )
        decision.skipped = f"create failed: {outcome.error}"
        return hub, decision
    if hub is None:
        hub = Hub(sf_id=outcome.target_id, sf_object=flow.sf_object, born_by_sync=True)
    hub.born_by_sync = True
    existing = hub.links.get(flow.name)
    if existing is not None and existing.state == "linked" and existing.pms_id != pms_id:
        decision.problems.append(
            Problem(
                flow.name,
                hub.sf_id,
                None,
                "LinkConflict",
                f"Salesforce {hub.sf_object} {hub.sf_id} is already linked to "
                f"{existing.pms_id}; not linking {pms_id} as well",
            )
        )
        return hub, decision
    hub.sf_known.update({k: canonical(v) for k, v in outcome.written.items()})
    # Whatever the flow had (nothing, a redelivered result's link, a detached pair) is
    # replaced by the new pair, which starts from what the upsert wrote.
    hub.links.pop(flow.name, None)
    link = lifecycle.advance(hub, flow.name, "upserted", since=now)
    assert link is not None
    link.pms_id, link.born_in = pms_id, "custompms"
    decision.links.append(LinkChange(pms_id, flow.pms_resource, hub.sf_id, flow.name, "linked"))
    if hub.deleted:
        # A person deleted the new Salesforce record before this result arrived (its delete
        # reached the hub first): the link is born detached, under the flow's delete rule.
        apply_sf_delete_rule(hub, flow, link, decision)
        return hub, decision
    reconcile(hub, rules, now, decision)
    return hub, decision


def _record_written(hub: Hub, flow: Flow, outcome: WriteOutcome) -> None:
    """A write landed: its values are what the target holds now (usually already known,
    set when the write was issued; a replay's writes are learned here)."""
    written = {k: canonical(v) for k, v in outcome.written.items()}
    if outcome.system == "salesforce":
        if outcome.target_id == hub.sf_id:
            hub.sf_known.update(written)
        return
    link: PmsLink | None = hub.linked(flow.name)
    if link is not None and outcome.target_id == link.pms_id:
        link.known.update(written)
        # Never backwards: a person's later change may have been folded in already.
        link.version = max(filter(None, (link.version, outcome.version)), default=None)
        link.modstamp = outcome.modstamp or link.modstamp


def _write_conflict(
    hub: Hub, outcome: WriteOutcome, rules: Rules, now: int, decision: Decision
) -> None:
    """The sink skipped a write (Salesforce, or Custompms on 412): someone changed the record
    after the decision. The write's fields are no longer known, but the values they replaced
    stay stale: the person's change still carries them for every field the person did not
    touch. Once that change is folded in (now, or when it arrives) the write is decided again."""
    if outcome.system == "custompms":
        link = hub.linked(outcome.flow)
        if link is None or link.pms_id != outcome.target_id:
            return
        for name in outcome.written:
            link.known.pop(name, None)
        seen = link.version is not None and link.version >= (outcome.version or 0)
    elif outcome.target_id == hub.sf_id:
        for name in outcome.written:
            hub.sf_known.pop(name, None)
        seen = hub.sf_modstamp is not None and hub.sf_modstamp >= (outcome.modstamp or 0)
    else:
        return
    if seen:
        reconcile(hub, rules, now, decision)
    else:
        decision.skipped = "write conflict: waiting for the change that caused it"


def _forget_written(hub: Hub, flow: Flow, outcome: WriteOutcome) -> None:
    """A write failed: its fields are no longer known, so the next change writes them again."""
    if outcome.system == "salesforce":
        for name in outcome.written:
            hub.sf_known.pop(name, None)
            hub.sf_stale.pop(name, None)
        return
    link = hub.linked(flow.name)
    if link is not None and link.pms_id == outcome.target_id:
        for key in outcome.written:
            link.known.pop(key, None)
            link.stale.pop(key, None)
