"""Routing of Custompms changes to their hub: pure decisions, keyed by the Custompms id.

A Custompms change arrives keyed by its own id, but its link state lives in the hub keyed by
the Salesforce id. The route of a Custompms record says where its changes go:

- `linked`: forward to the hub (`link_key`); `claimed` when that hub got it by an onboarding
  match on a record this table had not seen made (the hub that made it, if the sync did,
  takes it back when its late link arrives: docs/faults.md Found 16);
- `creating`: a person made this record; the sync is creating its Salesforce twin. Its
  changes are parked, in order, until the link arrives, then forwarded. All of them: the
  first says a person set the values, and that must survive a later echo;
- `awaiting`: waiting for a claim: the sync itself made this record (its link arrives once
  the hub has the create's result), or a person edited a record this table has never seen
  (one the sync made whose claim is still on its way, or one that existed before the sync,
  which onboarding claims, or deleted a record before its link arrived). Changes are
  parked the same way;
- `detached`: the link was removed (a delete, or unlink policy); changes are ignored so a
  detached record is never re-created on the other side.
- `unclaimed`: a record a person made (or one that existed before the sync) that no flow
  took when it was seen: out of the flow's Custompms scope, or older than the sync while the
  flow waits for onboarding. Not one the sync made, so each change of it is considered
  again: edited into scope, or released by `sfpms onboard`, it is created; claimed (an
  onboarding match), it is linked. Only its newest change is kept, for the claimant.
No route: a record never seen. A record a person creates is created in Salesforce where its
flow allows, if it is in the flow's Custompms scope and not older than the sync (unless
`sfpms onboard` released it); others wait for the onboarding match.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from foundation.errors import SyncError
from streams.core.deletes import TAKEN_BACK, TWIN_DELETED, sf_delete_writes
from streams.core.model import EXTERNAL_ID_FIELD, Change, LinkEvent, Problem, WriteIntent
from streams.core.rules import Rules
from streams.core.values import canonical
from streams.mapping.apply import pms_to_sf
from streams.mapping.errors import UnknownValue
from streams.mapping.flows import flows_for_pms_record

RouteState = Literal["creating", "awaiting", "unclaimed", "linked", "detached"]

#: A record edited this often before its link exists is unusual; keep the newest changes.
MAX_PARKED = 50


@dataclass(slots=True)
class Route:
    """Where a Custompms record's changes go; `parked` holds changes not yet forwarded."""

    state: RouteState
    link_key: str | None = None
    flow: str | None = None
    parked: list[bytes] = field(default_factory=list)
    claimed: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"st": self.state}
        if self.link_key:
            data["k"] = self.link_key
        if self.flow:
            data["f"] = self.flow
        if self.parked:
            data["p"] = [raw.hex() for raw in self.parked]
        if self.claimed:
            data["c"] = 1
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Route:
        return cls(
            state=data["st"],
            link_key=data.get("k"),
            flow=data.get("f"),
            parked=[bytes.fromhex(raw) for raw in data.get("p", [])],
            claimed=bool(data.get("c")),
        )


@dataclass
class RouteDecision:
    """What to do with one Custompms change or link event."""

    route: Route | None
    forward: list[tuple[str, str, bytes]]  # (link key, flow, raw change envelope)
    writes: list[WriteIntent]
    problems: list[Problem]
    skipped: str | None = None
    answers: list[LinkEvent] = field(default_factory=list)


def on_pms_change(route: Route | None, change: Change, raw: bytes, rules: Rules) -> RouteDecision:
    """Route one Custompms change: forward it, park it, or start creating its twin."""
    if route is not None:
        if route.state == "linked":
            assert route.link_key is not None and route.flow is not None
            return RouteDecision(route, [(route.link_key, route.flow, raw)], [], [])
        if route.state == "detached":
            return RouteDecision(route, [], [], [], skipped=f"{change.id} is detached")
        if route.state == "unclaimed" or (route.state == "awaiting" and _released(change, rules)):
            # A person's record (never the sync's): this change may bring it into scope, or
            # onboarding may have released it; what was parked for a claimant stays parked.
            kept = route.parked if route.state == "awaiting" else []
            return _consider(change, raw, rules, kept)
        route.parked = [*route.parked, raw][-MAX_PARKED:]
        return RouteDecision(route, [], [], [], skipped="parked until the link arrives")
    if change.op == "d" or change.record is None:
        # The sync's own create never reaches the engine (no echoes), so a delete may be the
        # first change this table sees of a record whose link is still on its way: parked,
        # it reaches the hub when the link arrives and the flow's delete rule applies.
        return RouteDecision(
            Route("awaiting", parked=[raw]), [], [], [], skipped="delete parked until linked"
        )
    if not flows_for_pms_record(change.entity, change.record, rules.flows):
        return RouteDecision(None, [], [], [], skipped=f"no flow takes {change.entity} records")
    if change.by_sync:
        return RouteDecision(Route("awaiting", parked=[raw]), [], [], [])
    if change.op == "u" and not _released(change, rules):
        # Not a creation: the record existed before this table saw it. The sync's own
        # changes do not reach the engine (their results carry what they wrote), so this may
        # be a person's edit of a record the sync just made, whose claim is on its way.
        return RouteDecision(
            Route("awaiting", parked=[raw]), [], [], [], skipped="parked until claimed"
        )
    return _consider(change, raw, rules, [])


def _released(change: Change, rules: Rules) -> bool:
    """`sfpms onboard` released this record (one older than the sync, so never one the sync
    made) to create its twin in one of its flows."""
    onboarding = change.onboarding
    if onboarding is None or not onboarding.create or change.record is None:
        return False
    return rules.predates_sync(change.created_ts)


def _consider(change: Change, raw: bytes, rules: Rules, parked: list[bytes]) -> RouteDecision:
    """A person's record no hub owns: create its Salesforce twin if its flow takes it."""
    if change.op == "d" or change.record is None:
        return RouteDecision(None, [], [], [], skipped=f"{change.id} was never linked")
    flows = flows_for_pms_record(change.entity, change.record, rules.flows)
    if not flows:
        return RouteDecision(None, [], [], [], skipped=f"no flow takes {change.entity} records")
    flow = flows[0]
    if change.onboarding is not None and flow.name in change.onboarding.link:
        # `sfpms onboard` paired it with a Salesforce record, whose hub claims it: kept for
        # that claim (the claimant learns the record, and its version, from it).
        awaiting = Route("awaiting", parked=[*parked, raw][-MAX_PARKED:])
        return RouteDecision(awaiting, [], [], [], skipped="onboarding claims it")
    if not flow.create_in_sf:
        unclaimed = Route("unclaimed", flow=flow.name, parked=[raw])
        return RouteDecision(unclaimed, [], [], [], skipped=f"{flow.name} waits for onboarding")
    if not flow.scope.pms_matches(change.record):
        # Out of scope creates nothing; edited into scope later, it is created then.
        unclaimed = Route("unclaimed", flow=flow.name, parked=[raw])
        return RouteDecision(unclaimed, [], [], [], skipped=f"out of {flow.name}'s Custompms scope")
    released = change.onboarding.create if change.onboarding is not None else ()
    if rules.waits_for_onboarding(flow, change.created_ts, released):
        unclaimed = Route("unclaimed", flow=flow.name, parked=[raw])
        return RouteDecision(
            unclaimed, [], [], [], skipped=f"predates the sync; {flow.name} waits for onboarding"
        )
    unknown: list[UnknownValue] = []
    try:
        mapped = pms_to_sf(flow, change.record, record_id=change.id, unknown=unknown)
    except SyncError as exc:
        problem = Problem(flow.name, change.id, exc.field, type(exc).__name__, exc.describe())
        return RouteDecision(None, [], [], [problem], skipped="mapping failed")
    # A value the mapping does not know leaves that field out; the twin is still created.
    # It is reported once, by the hub, when this change reaches it through the new link.
    fields = {name: canonical(value) for name, value in mapped.items()}
    match = {
        row.sf_field: str(fields[row.sf_field])
        for key in flow.match_on
        if (row := flow.row(key)).sf_field and fields.get(row.sf_field) is not None
    }
    write = WriteIntent(
        flow=flow.name,
        link_key=f"pms:{change.id}",
        system="salesforce",
        entity=flow.sf_object,
        action="upsert",
        fields=fields,
        match=match,
        external_id_field=EXTERNAL_ID_FIELD,
        external_id=change.id,
    )
    creating = Route("creating", flow=flow.name, parked=[*parked, raw][-MAX_PARKED:])
    return RouteDecision(creating, [], [write], [])


def on_link_change(route: Route | None, event: LinkEvent, rules: Rules, now: int) -> RouteDecision:
    """Apply a link linked, claimed or unlinked; forward what was parked once linked.

    `linked` comes from a hub that made the record (or its Salesforce twin) and owns it;
    `claimed` from an onboarding match, accepted only if no other hub owns the record (the
    answer goes back to the hub, which writes nothing to the record before it is accepted).
    A record whose own twin is being created can be claimed: the twin's upsert then adopts
    the claimant by the same match, or is refused. A record a delete rule unlinked is never
    linked again, by any claim. An unlink saying the record's Salesforce twin was found
    deleted (`TWIN_DELETED`) applies the flow's delete rule to the record, unless another
    hub owns it now (claimed while the twin's upsert was in flight) or it is detached (the
    rule ran then).

    The hub that made a record wins it from a hub that claimed it by a match: a create-time
    match can find a record the sync made for another Salesforce record before that one's
    link arrived (its answer was lost, docs/faults.md Found 16). The claimant is refused
    (it makes a record of its own); the maker's create or key-reuse adoption wrote its
    values, so it holds them."""
    if event.action == "unlinked" and event.reason == TWIN_DELETED:
        return _twin_deleted(route, event, rules)
    if event.action in ("linked", "claimed"):
        owner = route.link_key if route is not None and route.state == "linked" else None
        if route is not None and owner is not None and owner != event.link_key:
            if event.action == "linked" and route.claimed:
                return _taken_back(route, owner, event, now)
            reason = f"already linked to {owner}"
            problems = []
            if event.action == "linked":
                problems.append(
                    Problem(
                        event.flow,
                        event.pms_id,
                        None,
                        "LinkConflict",
                        f"Custompms {event.pms_entity} {event.pms_id} is already linked to "
                        f"{owner}; ignoring a second link to {event.link_key}",
                    )
                )
            return RouteDecision(
                route, [], [], problems, skipped=reason, answers=[_answer(event, now, reason)]
            )
        if route is not None and route.state == "detached":
            reason = "a delete rule unlinked it; detached records are never linked again"
            return RouteDecision(
                route, [], [], [], skipped=reason, answers=[_answer(event, now, reason)]
            )
        parked = route.parked if route is not None else []
        forward = [(event.link_key, event.flow, raw) for raw in parked]
        answers = [_answer(event, now)] if event.action == "claimed" else []
        # A claim on a record never seen made (no route, or awaiting its maker's link) may
        # have found one the sync made for another hub whose link is late: that hub may
        # take it back. A record whose twin is being created is settled by that upsert.
        unseen = route is None or route.state == "awaiting"
        linked = Route(
            "linked", event.link_key, event.flow, claimed=event.action == "claimed" and unseen
        )
        return RouteDecision(linked, forward, [], [], answers=answers)
    if route is not None and route.state == "creating":
        # Its Salesforce twin was deleted before this table knew it was made: detached.
        return RouteDecision(
            Route("detached", event.link_key, event.flow), [], [], [], skipped="twin deleted"
        )
    if route is not None and route.state == "linked" and route.link_key != event.link_key:
        # Only the owner of a link can remove it (a refused claimant's unlink is stale).
        return RouteDecision(
            route, [], [], [], skipped="unlink from a record that is not the owner"
        )
    return RouteDecision(Route("detached", event.link_key, event.flow), [], [], [])


def _taken_back(route: Route, owner: str, event: LinkEvent, now: int) -> RouteDecision:
    """The maker's link replaces a match claim; the claimant hears it is refused, and the
    maker that it took the record back (the claimant may have written to it)."""
    reason = f"the sync made it for {event.link_key}"
    refusal = replace(
        event,
        link_key=owner,
        flow=route.flow or event.flow,
        action="refused",
        reason=reason,
        at=now,
    )
    back = replace(event, action="accepted", reason=TAKEN_BACK, at=now)
    linked = Route("linked", event.link_key, event.flow)
    return RouteDecision(
        linked, [], [], [], skipped=f"taken back from {owner}", answers=[refusal, back]
    )


def _twin_deleted(route: Route | None, event: LinkEvent, rules: Rules) -> RouteDecision:
    if route is not None and route.state in ("linked", "detached"):
        why = f"linked to {route.link_key}" if route.state == "linked" else "detached already"
        return RouteDecision(route, [], [], [], skipped=f"twin deleted, but {why}")
    flow = rules.flows.get(event.flow)
    writes = sf_delete_writes(flow, event.link_key, event.pms_id) if flow is not None else []
    detached = Route("detached", event.link_key, event.flow)
    return RouteDecision(detached, [], writes, [], skipped="twin deleted in Salesforce")


def _answer(event: LinkEvent, now: int, refused: str | None = None) -> LinkEvent:
    """The routing side's answer to a hub's claim."""
    return replace(event, action="refused" if refused else "accepted", reason=refused, at=now)
