"""Decisions for one hub (a Salesforce record and its links): pure functions, no I/O.

Each entry point folds one input into the hub and returns the writes it leads to:

- `on_sf_change`: a Salesforce record changed (or was deleted);
- `on_pms_change`: a linked Custompms record changed (or was deleted);
- `on_outcome`: a sink reports what it wrote (a link is established, a write failed).

After folding, `reconcile` derives each side's desired state from the winners and writes
exactly the fields whose desired value differs from the known one. The functions take
ownership of the hub they are given and return it updated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from foundation.errors import SyncError
from streams.core.hub import SF, Hub, PmsLink, Winner
from streams.core.model import (
    EXTERNAL_ID_FIELD,
    Change,
    Decision,
    LinkChange,
    Problem,
    WriteIntent,
    WriteOutcome,
)
from streams.core.values import Scalar, canonical
from streams.mapping.apply import convert_to_pms, convert_to_sf, get_path
from streams.mapping.table import DeleteAction, DeleteRule, FieldRow, Flow

_MISSING: Any = object()


@dataclass(frozen=True)
class Rules:
    """The mapping and the conflict rule the core decides with."""

    flows: Mapping[str, Flow]
    precedence: Literal["salesforce", "custompms"] = "salesforce"
    #: Replaying history: a change no newer than what the link state already reflects is
    #: not folded in again (it would roll known state back); the record is only reconciled.
    replay: bool = False
    _by_object: dict[str, tuple[Flow, ...]] = field(default_factory=dict, compare=False)
    _fields: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    _writable: dict[str, frozenset[str]] = field(default_factory=dict, compare=False)

    def for_sf_object(self, sf_object: str) -> tuple[Flow, ...]:
        cached = self._by_object.get(sf_object)
        if cached is None:
            cached = tuple(f for f in self.flows.values() if f.sf_object == sf_object)
            self._by_object[sf_object] = cached
        return cached

    def sf_fields(self, sf_object: str) -> tuple[str, ...]:
        """Salesforce fields the flows of `sf_object` carry (references are ids, not data)."""
        cached = self._fields.get(sf_object)
        if cached is None:
            fields: dict[str, None] = {}
            for flow in self.for_sf_object(sf_object):
                fields.update(
                    (row.sf_field, None)
                    for row in flow.rows
                    if row.sf_field is not None and not row.is_reference
                )
            cached = self._fields[sf_object] = tuple(fields)
        return cached

    def sf_writable(self, sf_object: str) -> frozenset[str]:
        """Salesforce fields some flow writes (read-only and one-way fields excluded)."""
        cached = self._writable.get(sf_object)
        if cached is None:
            cached = self._writable[sf_object] = frozenset(
                row.sf_field
                for flow in self.for_sf_object(sf_object)
                for row in flow.rows
                if row.writes_sf and row.sf_field is not None
            )
        return cached

    def beats(self, candidate: Winner, current: Winner | None) -> bool:
        """Last writer wins by source commit time; ties go to the precedence system."""
        if current is None or candidate.ts > current.ts:
            return True
        if candidate.ts < current.ts:
            return False
        return (candidate.source == SF) == (self.precedence == "salesforce")


def sf_row(flow: Flow, sf_field: str) -> FieldRow | None:
    """The flow's row reading or writing `sf_field` (a flow maps a field at most once)."""
    for row in flow.rows:
        if row.sf_field == sf_field:
            return row
    return None


# -- entry points ---------------------------------------------------------------------------


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
        _sf_deleted(hub, rules, decision)
        return hub, decision
    if hub.deleted:
        decision.skipped = "record is deleted"
        return hub, decision
    if change.record is None:
        raise SyncError(
            f"Salesforce {change.entity} {change.id} changed (op {change.op}) but the change "
            "carries no record",
            flow=_flow_label(rules, change.entity),
            record=change.id,
        )
    # The first sight of a record the sync did not make is its baseline: its values are what
    # a person wants, whoever touched it last (e.g. a snapshot of a record last saved by the
    # integration user before the sync ran).
    counts_as_person = not change.by_sync or (first_sight and not hub.born_by_sync)
    fresh: set[str] = set()
    for name in rules.sf_fields(hub.sf_object):
        value = _incoming(change, rules, name, change.record.get(name))
        if not _news(hub.sf_known, hub.sf_stale, name, value):
            continue
        hub.sf_known[name] = value
        if counts_as_person:
            candidate = Winner(SF, change.ts, value)
            if rules.beats(candidate, hub.winners.get(name)):
                hub.winners[name] = candidate
                fresh.add(name)
    hub.sf_modstamp = change.ts
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
        _pms_deleted(hub, flow, link, change.ts, decision)
        return hub, decision
    if change.record is None:
        raise SyncError(
            f"{flow_name}: Custompms {change.entity} {change.id} changed (op {change.op}) "
            "but the change carries no record",
            flow=flow_name,
            record=change.id,
        )
    fresh: set[str] = set()
    for row in flow.rows:
        value = _incoming(change, rules, row.key, get_path(change.record, row.pms_field), flow)
        if not _news(link.known, link.stale, row.key, value):
            continue
        link.known[row.key] = value
        if row.writes_sf and row.sf_field is not None and not change.by_sync:
            candidate = Winner(flow_name, change.ts, value)
            if rules.beats(candidate, hub.winners.get(row.sf_field)):
                hub.winners[row.sf_field] = candidate
                fresh.add(row.sf_field)
    link.version = change.version
    link.modstamp = change.ts
    reconcile(hub, rules, now, decision, fresh)
    return hub, decision


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
        return _sf_created(hub, flow, outcome, rules, now, decision)
    if hub is None:
        decision.skipped = "no link state for this result"
        return hub, decision
    if outcome.rejected:
        _link_rejected(hub, flow, outcome, rules, now, decision)
    elif outcome.conflict:
        _write_conflict(hub, flow, outcome, rules, now, decision)
    elif outcome.system == "custompms" and outcome.action == "create":
        _pms_created(hub, flow, outcome, rules, now, decision)
    elif not outcome.ok:
        _forget_written(hub, flow, outcome)
    elif outcome.action == "update":
        _record_written(hub, flow, outcome)
    return hub, decision


# -- reconciliation -------------------------------------------------------------------------


def reconcile(
    hub: Hub, rules: Rules, now: int, decision: Decision, fresh: Iterable[str] = ()
) -> None:
    """Write every field whose desired value differs from what its side holds; create the
    linked records that should exist. `fresh` names fields whose winner just changed:
    conversion problems are reported for those only, so one bad value is reported once."""
    if hub.deleted:
        return
    _baseline_winners(hub, rules)
    fresh = set(fresh)
    problems: dict[tuple[str, str | None], Problem] = {}
    sf_desired = _sf_desired(hub, rules, problems)
    # Salesforce-won fields are included: an echo of an older sync write may have landed
    # after a person's newer edit, and then the person's value must be written back.
    writable = rules.sf_writable(hub.sf_object)
    sf_patch = {
        name: value
        for name, value in sf_desired.items()
        if name in writable and hub.sf_known.get(name, _MISSING) != value
    }
    if sf_patch:
        _issue(hub.sf_known, hub.sf_stale, sf_patch)
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
    for flow in rules.for_sf_object(hub.sf_object):
        link = hub.links.get(flow.name)
        if link is None:
            _maybe_create(hub, flow, rules, sf_desired, now, decision, problems)
        elif link.state == "linked":
            patch = _pms_patch(hub, flow, link, sf_desired, problems)
            if patch:
                _issue(link.known, link.stale, patch)
                decision.writes.append(
                    WriteIntent(
                        flow=flow.name,
                        link_key=hub.sf_id,
                        system="custompms",
                        entity=flow.pms_resource,
                        action="update",
                        target_id=link.pms_id,
                        fields=patch,
                    )
                )
    decision.problems.extend(
        p for (source, name), p in problems.items() if name in fresh or source == "create"
    )


def _baseline_winners(hub: Hub, rules: Rules) -> None:
    """Two-way fields nobody has edited yet but whose sides disagree (a record linked by an
    onboarding match, or whose first change went to another link in a race): the newer
    record wins, ties to the precedence system, so the pair still converges."""
    for flow in rules.for_sf_object(hub.sf_object):
        link = hub.linked(flow.name)
        if link is None:
            continue
        for row in flow.rows:
            name = row.sf_field
            if name is None or not (row.writes_sf and row.writes_pms) or name in hub.winners:
                continue
            if name not in hub.sf_known or row.key not in link.known:
                continue
            sf_value, pms_value = hub.sf_known[name], link.known[row.key]
            try:
                if canonical(convert_to_pms(flow, row, sf_value, hub.sf_id)) == pms_value:
                    continue
                if canonical(convert_to_sf(flow, row, pms_value, hub.sf_id)) == sf_value:
                    continue
            except SyncError:
                continue
            sf_ts, pms_ts = hub.sf_modstamp or 0, link.modstamp or 0
            pms_newer = pms_ts > sf_ts or (pms_ts == sf_ts and rules.precedence == "custompms")
            hub.winners[name] = (
                Winner(flow.name, pms_ts, pms_value) if pms_newer else Winner(SF, sf_ts, sf_value)
            )


def _sf_desired(
    hub: Hub, rules: Rules, problems: dict[tuple[str, str | None], Problem]
) -> dict[str, Scalar]:
    """Per Salesforce field with a winner: the value Salesforce should hold."""
    desired: dict[str, Scalar] = {}
    for name, winner in hub.winners.items():
        if winner.source == SF:
            desired[name] = winner.value
            continue
        flow = rules.flows.get(winner.source)
        row = sf_row(flow, name) if flow is not None else None
        if flow is None or row is None or not row.writes_sf:
            continue
        try:
            desired[name] = canonical(convert_to_sf(flow, row, winner.value, hub.sf_id))
        except SyncError as exc:
            problems[("sf", name)] = _problem(flow.name, hub.sf_id, name, exc)
    return desired


def _pms_desired(
    hub: Hub,
    flow: Flow,
    sf_desired: Mapping[str, Scalar],
    problems: dict[tuple[str, str | None], Problem],
    record_id: str,
) -> dict[str, Scalar]:
    """The values the flow's Custompms record should hold (rows with something to say)."""
    desired: dict[str, Scalar] = {}
    for row in flow.rows_to_pms:
        if row.is_constant:
            assert row.to_pms is not None
            desired[row.key] = canonical(row.to_pms(None))
            continue
        assert row.sf_field is not None
        winner = hub.winners.get(row.sf_field)
        if winner is None:
            continue
        if winner.source == flow.name:
            desired[row.key] = winner.value
            continue
        if row.sf_field not in sf_desired:
            continue
        try:
            value = convert_to_pms(flow, row, sf_desired[row.sf_field], record_id)
            desired[row.key] = canonical(value)
        except SyncError as exc:
            problems[(flow.name, row.sf_field)] = _problem(flow.name, record_id, row.key, exc)
    for ref_key, other_flow in flow.requires:
        other = hub.linked(other_flow)
        if other is not None:
            desired[ref_key] = other.pms_id
    return desired


def _pms_patch(
    hub: Hub,
    flow: Flow,
    link: PmsLink,
    sf_desired: Mapping[str, Scalar],
    problems: dict[tuple[str, str | None], Problem],
) -> dict[str, Scalar]:
    desired = _pms_desired(hub, flow, sf_desired, problems, link.pms_id or hub.sf_id)
    return {k: v for k, v in desired.items() if link.known.get(k, _MISSING) != v}


def _maybe_create(
    hub: Hub,
    flow: Flow,
    rules: Rules,
    sf_desired: Mapping[str, Scalar],
    now: int,
    decision: Decision,
    problems: dict[tuple[str, str | None], Problem],
) -> None:
    """Create the flow's Custompms record for a Salesforce record a person made."""
    if not flow.create_in_pms or hub.born_by_sync:
        return
    if any(hub.linked(other) is None for _ref, other in flow.requires):
        return  # the reference (e.g. the Project of a Task) is not linked yet
    local: dict[tuple[str, str | None], Problem] = {}
    fields = _pms_desired(hub, flow, sf_desired, local, hub.sf_id)
    if local:
        for key, problem in local.items():
            problems[("create", key[1])] = problem
        return
    attempt = hub.create_attempts.get(flow.name, 0)
    hub.links[flow.name] = PmsLink(flow=flow.name, state="pending", since=now)
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


# -- deletes and results --------------------------------------------------------------------


def _sf_deleted(hub: Hub, rules: Rules, decision: Decision) -> None:
    hub.deleted = True
    for flow in rules.for_sf_object(hub.sf_object):
        link = hub.links.get(flow.name)
        # A pending link stays pending: its create may still land, and its result then gets
        # the delete policy (`_pms_created`), so no record is left behind unlinked.
        if link is not None and link.state == "linked":
            _apply_delete_rule(hub, flow, link, flow.delete_policy.sf_deleted, decision)


def _apply_delete_rule(
    hub: Hub, flow: Flow, link: PmsLink, rule: DeleteRule, decision: Decision
) -> None:
    """Carry a Salesforce delete to the linked Custompms record, then detach and unlink it."""
    assert link.pms_id is not None
    if rule.action is DeleteAction.PROPAGATE:
        decision.writes.append(
            WriteIntent(flow.name, hub.sf_id, "custompms", flow.pms_resource, "delete", link.pms_id)
        )
    elif rule.action is DeleteAction.DEACTIVATE:
        patch = {k: canonical(v) for k, v in rule.patch.items()}
        decision.writes.append(
            WriteIntent(
                flow.name,
                hub.sf_id,
                "custompms",
                flow.pms_resource,
                "update",
                link.pms_id,
                fields=patch,
            )
        )
    link.state = "detached"
    decision.links.append(
        LinkChange(link.pms_id, flow.pms_resource, hub.sf_id, flow.name, "unlinked")
    )


def _pms_deleted(hub: Hub, flow: Flow, link: PmsLink, ts: int, decision: Decision) -> None:
    rule = flow.delete_policy.pms_deleted
    if not hub.deleted and rule.action is DeleteAction.PROPAGATE:
        decision.writes.append(
            WriteIntent(flow.name, hub.sf_id, "salesforce", hub.sf_object, "delete", hub.sf_id)
        )
    elif not hub.deleted and rule.action is DeleteAction.DEACTIVATE:
        patch = {k: canonical(v) for k, v in rule.patch.items()}
        _issue(hub.sf_known, hub.sf_stale, patch)
        # The deactivation is the field's latest decision: it must win over the value the
        # deleted record set, or the next reconcile would write that value back.
        for name, value in patch.items():
            hub.winners[name] = Winner(SF, ts, value)
        decision.writes.append(
            WriteIntent(
                flow.name,
                hub.sf_id,
                "salesforce",
                hub.sf_object,
                "update",
                hub.sf_id,
                fields=patch,
                if_match=hub.sf_modstamp,
            )
        )
    link.state = "detached"
    assert link.pms_id is not None
    decision.links.append(
        LinkChange(link.pms_id, flow.pms_resource, hub.sf_id, flow.name, "unlinked")
    )


def _pms_created(
    hub: Hub, flow: Flow, outcome: WriteOutcome, rules: Rules, now: int, decision: Decision
) -> None:
    link = hub.links.get(flow.name)
    if link is None or link.state != "pending":
        decision.skipped = f"no pending create for {flow.name}"
        return
    if not outcome.ok or outcome.target_id is None:
        del hub.links[flow.name]
        hub.create_attempts[flow.name] = hub.create_attempts.get(flow.name, 0) + 1
        decision.skipped = f"create failed: {outcome.error}"
        return
    link.state, link.pms_id = "linked", outcome.target_id
    link.known = {k: canonical(v) for k, v in outcome.written.items()}
    link.version, link.modstamp = outcome.version, outcome.modstamp
    decision.links.append(
        LinkChange(outcome.target_id, flow.pms_resource, hub.sf_id, flow.name, "linked")
    )
    if hub.deleted:
        _apply_delete_rule(hub, flow, link, flow.delete_policy.sf_deleted, decision)
        return
    reconcile(hub, rules, now, decision)


def _link_rejected(
    hub: Hub, flow: Flow, outcome: WriteOutcome, rules: Rules, now: int, decision: Decision
) -> None:
    """The onboarding match linked a Custompms record another Salesforce record owns already:
    drop that link and create a record of our own, this time without matching."""
    link = hub.links.get(flow.name)
    if link is None or link.pms_id != outcome.target_id:
        decision.skipped = "rejected link is not ours"
        return
    del hub.links[flow.name]
    if flow.name not in hub.no_match:
        hub.no_match.append(flow.name)
    hub.create_attempts[flow.name] = hub.create_attempts.get(flow.name, 0) + 1
    reconcile(hub, rules, now, decision)


def _sf_created(
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
    link = hub.links[flow.name] = PmsLink(
        flow=flow.name, state="linked", pms_id=pms_id, since=now, born_in="custompms"
    )
    decision.links.append(LinkChange(pms_id, flow.pms_resource, hub.sf_id, flow.name, "linked"))
    if hub.deleted:
        # A person deleted the new Salesforce record before this result arrived (its delete
        # reached the hub first): the link is born detached, under the flow's delete rule.
        _apply_delete_rule(hub, flow, link, flow.delete_policy.sf_deleted, decision)
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
    link = hub.linked(flow.name)
    if link is not None and outcome.target_id == link.pms_id:
        link.known.update(written)
        link.version = outcome.version or link.version
        link.modstamp = outcome.modstamp or link.modstamp


def _write_conflict(
    hub: Hub, flow: Flow, outcome: WriteOutcome, rules: Rules, now: int, decision: Decision
) -> None:
    """The sink skipped a Salesforce write: a person changed the record after the decision.
    The write's fields are no longer known, but the values they replaced stay stale: the
    person's change still carries them for every field the person did not touch. Once that
    change is folded in (now, or when it arrives) the write is decided again."""
    if outcome.system != "salesforce" or outcome.target_id != hub.sf_id:
        return
    for name in outcome.written:
        hub.sf_known.pop(name, None)
    seen = hub.sf_modstamp is not None and hub.sf_modstamp >= (outcome.modstamp or 0)
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


#: In-flight writes remembered per field; more than this many overlapping writes of one
#: field is a hot loop, and forgetting the oldest pre-write value is then the safe side.
MAX_STALE = 4


def _issue(
    known: dict[str, Scalar], stale: dict[str, list[Scalar]], patch: dict[str, Scalar]
) -> None:
    """A write of `patch` is issued: it is known now (optimistically), and the values it
    replaces are stale until the side shows the write landed."""
    for key, value in patch.items():
        before = known.get(key, _MISSING)
        if before is not _MISSING and before != value:
            olds = stale.setdefault(key, [])
            if before not in olds:
                olds.append(before)
                del olds[:-MAX_STALE]
        known[key] = value


def _news(
    known: dict[str, Scalar], stale: dict[str, list[Scalar]], key: str, value: Scalar
) -> bool:
    """Whether a side's `value` for `key` is news: not what is known, and not a stale read
    of a field the sync is still writing."""
    if known.get(key, _MISSING) == value:
        stale.pop(key, None)  # the write landed; any other value from now on is news
        return False
    olds = stale.get(key)
    if olds is not None:
        if value in olds:
            return False
        del stale[key]  # a value nobody wrote before: the write landed and was edited over
    return True


def _incoming(
    change: Change, rules: Rules, name: str, value: Any, flow: Flow | None = None
) -> Scalar:
    """The canonical form of an incoming field value, or a SyncError naming the record."""
    try:
        return canonical(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise SyncError(
            f"{change.entity} {change.id}: field {name} has a value the sync cannot compare "
            f"({type(value).__name__}: {exc})",
            flow=flow.name if flow is not None else _flow_label(rules, change.entity),
            record=change.id,
            field=name,
        ) from exc


def _flow_label(rules: Rules, sf_object: str) -> str:
    flows = rules.for_sf_object(sf_object)
    return "+".join(f.name for f in flows) if flows else sf_object


def _problem(flow: str, record: str, field_name: str | None, exc: SyncError) -> Problem:
    return Problem(
        flow=flow,
        record=record,
        field=exc.field or field_name,
        error_class=type(exc).__name__,
        reason=exc.describe(),
    )
