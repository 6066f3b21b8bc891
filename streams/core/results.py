"""Results: what a sink reports it wrote, folded back into the hub.

Creates establish links (and bring the twin's first known state), updates confirm what the
target holds and at which version, failures forget what was optimistically known so the
next change writes again, conflicts fold the change that caused them (or wait for it). A
result carries one outcome per op of its command, folded in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from foundation.errors import SyncError
from foundation.wire import OpOutcome, WriteResult
from streams.core import lifecycle
from streams.core.deletes import TAKEN_BACK, TWIN_DELETED, apply_sf_delete_rule
from streams.core.hub import SF, Hub, PmsLink
from streams.core.model import Decision, LinkEvent, Problem
from streams.core.reconcile import reconcile
from streams.core.rules import Rules
from streams.core.values import Scalar, canonical
from streams.mapping.apply import get_path, nest
from streams.mapping.table import Flow


def on_result(
    hub: Hub | None, result: WriteResult, rules: Rules, now: int
) -> tuple[Hub | None, Decision]:
    """Fold every outcome of a sink's result into the hub, in the order of its ops."""
    decision = Decision()
    for outcome in result.outcomes:
        hub = _on_outcome(hub, result, outcome, rules, now, decision)
    return hub, decision


def _on_outcome(
    hub: Hub | None,
    result: WriteResult,
    outcome: OpOutcome,
    rules: Rules,
    now: int,
    decision: Decision,
) -> Hub | None:
    flow = rules.flows.get(outcome.flow)
    if flow is None:
        decision.skipped = f"unknown flow {outcome.flow}"
        return hub
    if result.system == "salesforce" and outcome.action == "upsert":
        return sf_created(hub, flow, result, outcome, rules, now, decision)
    if hub is None:
        decision.skipped = "no link state for this result"
        return hub
    if outcome.conflict:
        _write_conflict(hub, flow, result, outcome, rules, now, decision)
    elif result.system == "custompms" and outcome.action == "create":
        pms_created(hub, flow, outcome, rules, now, decision)
    elif not outcome.ok:
        _forget_written(hub, flow, result, outcome)
    elif outcome.action == "update":
        _record_written(hub, flow, result, outcome)
    return hub


def pms_created(
    hub: Hub, flow: Flow, outcome: OpOutcome, rules: Rules, now: int, decision: Decision
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
    link.pms_id = outcome.target_id
    link.known = _known_after(flow, outcome)
    link.version, link.modstamp = outcome.version, outcome.target_modstamp
    if outcome.matched:
        # An existing record: claimed, and left alone until the routing side accepts.
        lifecycle.advance(hub, flow.name, "matched")
        decision.links.append(
            LinkEvent(outcome.target_id, flow.pms_resource, hub.sf_id, flow.name, "claimed", now)
        )
        return
    lifecycle.advance(hub, flow.name, "created")
    decision.links.append(
        LinkEvent(outcome.target_id, flow.pms_resource, hub.sf_id, flow.name, "linked", now)
    )
    _linked(hub, flow, link, rules, now, decision)


def link_accepted(
    hub: Hub, flow: Flow, answer: LinkEvent, rules: Rules, now: int, decision: Decision
) -> None:
    """The routing side accepted the hub's claim on a matched record: the pair is linked.

    Or it says this hub, which made the record, took it back from a match claim: the
    claimant may have written to it, so what it holds is no longer known; the hub writes
    its values again and learns the record from that write's answer."""
    pms_id = answer.pms_id
    link = hub.links.get(flow.name)
    if answer.reason == TAKEN_BACK:
        if link is None or link.pms_id != pms_id or link.state != "linked":
            decision.skipped = "taken-back record is not linked here"
            return
        link.retaken = True
        link.known.clear()
        link.stale.clear()
        link.landed.clear()
        reconcile(hub, rules, now, decision)
        return
    if link is None or link.pms_id != pms_id or link.state != "claimed":
        decision.skipped = "accepted claim is not pending here"
        return
    lifecycle.advance(hub, flow.name, "accepted")
    _linked(hub, flow, link, rules, now, decision)


def _linked(
    hub: Hub, flow: Flow, link: PmsLink, rules: Rules, now: int, decision: Decision
) -> None:
    """A pair was just linked: carry a delete that came first, else reconcile the two."""
    if hub.deleted:
        apply_sf_delete_rule(hub, flow, link, now, decision)
        return
    reconcile(hub, rules, now, decision)


def link_refused(
    hub: Hub, flow: Flow, pms_id: str | None, rules: Rules, now: int, decision: Decision
) -> None:
    """The onboarding match found a Custompms record another Salesforce record owns (or one
    whose own twin is being made): drop the claim and create a record of our own, this time
    without matching."""
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
    result: WriteResult,
    outcome: OpOutcome,
    rules: Rules,
    now: int,
    decision: Decision,
) -> Hub | None:
    """A Salesforce record was upserted for a Custompms record a person made."""
    pms_id = result.external_id
    assert pms_id is not None, "an upsert's link key names the Custompms id it was keyed by"
    if outcome.outcome == "gone":
        # Its twin was made before and a person deleted it: the record is detached, never
        # re-created (a replayed or redelivered create would otherwise make a second twin).
        # The flow's rule for a deleted Salesforce record may not have run: a sink that died
        # after applying the upsert and before reporting it replays the upsert, which then
        # finds the twin gone. Only the routing side knows whether it should run now (not if
        # another hub claimed the record meanwhile, nor if it ran when the pair was
        # detached), so it is asked to (`routes.on_link_change`).
        decision.links.append(
            LinkEvent(
                pms_id,
                flow.pms_resource,
                result.link_key,
                flow.name,
                "unlinked",
                now,
                reason=TWIN_DELETED,
            )
        )
        decision.skipped = f"twin deleted in Salesforce: {outcome.error}"
        return hub
    if not outcome.ok or outcome.target_id is None:
        # Dead-lettered by the sink; the record's changes stay parked until a re-drive of
        # the create succeeds.
        decision.skipped = f"create failed: {outcome.error}"
        return hub
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
        return hub
    written = {k: canonical(v) for k, v in outcome.written.items()}
    if hub.sf_modstamp is None or outcome.matched:
        # Matched: the sync adopted a person's record, which the capture saw before this
        # write, so what the upsert wrote is what it holds now.
        hub.sf_known.update(written)
    elif existing is None:
        # The capture saw the twin before this answer (topics are not ordered with each
        # other; a restarted engine reads both at once): what it saw is newer than the
        # upsert and stays known. Its first sight counted every value as a person's edit,
        # but a value the upsert wrote is the sync's: only the fields a person changed
        # since keep their Salesforce winner (docs/faults.md, Found 22).
        for name, value in written.items():
            winner = hub.winners.get(name)
            if winner is not None and winner.source == SF and winner.value == value:
                del hub.winners[name]
    # Whatever the flow had (nothing, a redelivered result's link, a detached pair) is
    # replaced by the new pair, which starts from what the upsert wrote.
    hub.links.pop(flow.name, None)
    link = lifecycle.advance(hub, flow.name, "upserted", since=now)
    assert link is not None
    link.pms_id, link.born_in = pms_id, "custompms"
    decision.links.append(LinkEvent(pms_id, flow.pms_resource, hub.sf_id, flow.name, "linked", now))
    if hub.deleted:
        # A person deleted the new Salesforce record before this result arrived (its delete
        # reached the hub first): the link is born detached, under the flow's delete rule.
        apply_sf_delete_rule(hub, flow, link, now, decision)
        return hub
    reconcile(hub, rules, now, decision)
    return hub


def _known_after(flow: Flow, outcome: OpOutcome) -> dict[str, Scalar]:
    """What a Custompms record holds after a write: its returned values where the sink
    reported them (server defaults included), else what the write sent."""
    written = {k: canonical(v) for k, v in outcome.written.items()}
    if outcome.record is None:
        return written
    return {**written, **_record_values(flow, outcome.record)}


def _record_values(flow: Flow, record: Mapping[str, Any]) -> dict[str, Scalar]:
    """A Custompms record's values (dotted paths, as sinks report them) by the flow's row
    keys."""
    nested = nest(dict(record))
    return {row.key: canonical(get_path(nested, row.pms_field)) for row in flow.rows}


def _record_written(hub: Hub, flow: Flow, result: WriteResult, outcome: OpOutcome) -> None:
    """A write landed: its values are what the target holds now (usually already known,
    set when the write was issued; a replay's writes are learned here)."""
    written = {k: canonical(v) for k, v in outcome.written.items()}
    if result.system == "salesforce":
        if outcome.target_id == hub.sf_id:
            hub.sf_known.update(written)
        return
    link: PmsLink | None = hub.linked(flow.name)
    if link is not None and outcome.target_id == link.pms_id:
        link.known.update(written)
        link.retaken = False
        if outcome.version is not None:
            # Results may arrive after later writes were issued: never step the version
            # the next write conditions on back.
            link.version = max(link.version or 0, outcome.version)
            for key in written:
                if key in link.stale:
                    link.landed[key] = max(link.landed.get(key, 0), outcome.version)
        link.modstamp = outcome.target_modstamp or link.modstamp


def _write_conflict(
    hub: Hub,
    flow: Flow,
    result: WriteResult,
    outcome: OpOutcome,
    rules: Rules,
    now: int,
    decision: Decision,
) -> None:
    """The sink skipped a write: the record changed after the decision (a person, or on
    Salesforce also an earlier sync write the decision had not seen). The write's fields
    are no longer known, but the values they replaced stay stale: the person's change
    still carries them for every field the person did not touch. Once that change is
    folded in (now, from the record the sink read, or when CDC brings it) the write is
    decided again."""
    if result.system == "salesforce":
        if outcome.target_id != hub.sf_id:
            return
        for name in outcome.written:
            hub.sf_known.pop(name, None)
        seen = hub.sf_modstamp is not None and hub.sf_modstamp >= (outcome.target_modstamp or 0)
        if seen:
            reconcile(hub, rules, now, decision)
        else:
            decision.skipped = "write conflict: waiting for the change that caused it"
        return
    link = hub.linked(flow.name)
    if link is None or link.pms_id is None or link.pms_id != outcome.target_id:
        return
    if link.retaken and outcome.record is not None and outcome.version is not None:
        # Taken back from a match claim, whose hub may have written to the record (changes
        # the sync makes never come back through capture): what the record holds now is
        # learned from this answer, and the hub's values are written again at its version.
        # A person's change reaches the engine through CDC at a newer version and wins.
        link.known = _record_values(flow, outcome.record)
        link.version, link.retaken = outcome.version, False
        link.modstamp = outcome.target_modstamp or link.modstamp
        reconcile(hub, rules, now, decision)
        return
    if _holds_written(outcome):
        # The record already holds every value the write sent: the sync's own earlier try
        # landed and its answer was lost (a response dropped after the apply, then the retry
        # found the version moved; or a sink restarted). That change is an echo, which
        # capture never publishes, so waiting for it would wait forever. The write counts as
        # landed at the record's version; a person's change to other fields in the same
        # version still reaches the engine through CDC, and is folded by value.
        _record_written(hub, flow, result, outcome)
        reconcile(hub, rules, now, decision)
        return
    for key in outcome.written:
        link.known.pop(key, None)
    # Who moved the version is not known here (the sink maps its own writes forward, so
    # usually a person, but after a sink restart possibly the sync itself): the record is
    # not folded as a person's change. A person's change reaches the engine through CDC;
    # once it is folded (now, if it already was) the write is decided again.
    if link.version is not None and link.version >= (outcome.version or 0):
        reconcile(hub, rules, now, decision)
    else:
        decision.skipped = "write conflict: waiting for the change that caused it"


def _holds_written(outcome: OpOutcome) -> bool:
    """Whether the record a conflict reported holds every value its write sent (a write's
    keys are Custompms paths, as row keys are)."""
    if outcome.record is None or not outcome.written:
        return False
    record = nest(dict(outcome.record))
    return all(
        canonical(get_path(record, key)) == canonical(value)
        for key, value in outcome.written.items()
    )


def _forget_written(hub: Hub, flow: Flow, result: WriteResult, outcome: OpOutcome) -> None:
    """A write failed: its fields are no longer known, so the next change writes them again."""
    if result.system == "salesforce":
        for name in outcome.written:
            hub.sf_known.pop(name, None)
            hub.sf_stale.pop(name, None)
        return
    link = hub.linked(flow.name)
    if link is not None and link.pms_id == outcome.target_id:
        for key in outcome.written:
            link.known.pop(key, None)
            link.stale.pop(key, None)
            link.landed.pop(key, None)
