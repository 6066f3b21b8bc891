"""The one dispatcher: `step(state, event) -> (state, effects)`. Pure.

The caller loads the state of `event.key` from `event.table` (a `Hub` for hub events, a
`Route` for route events, None when there is none yet), calls `step`, stores what it
returns under the same key and carries the effects out. Nothing else decides.
"""

from __future__ import annotations

from foundation.wire import Source
from streams.core import routes
from streams.core.commands import commands_for
from streams.core.events import (
    AnnounceLink,
    AnswerClaim,
    CustompmsChanged,
    Effect,
    Event,
    Forward,
    Forwarded,
    IssueWrite,
    LinkAccepted,
    LinkClaimed,
    LinkRefused,
    LinkReleased,
    Reject,
    SalesforceChanged,
    Skip,
    Tombstone,
    WriteAcked,
)
from streams.core.fold import on_pms_change, on_sf_change
from streams.core.hub import Hub
from streams.core.model import Decision
from streams.core.results import link_accepted, link_refused, on_result
from streams.core.routes import Route
from streams.core.rules import Rules

State = Hub | Route | None


def step(state: State, event: Event, rules: Rules, now: int) -> tuple[State, list[Effect]]:
    """Fold one event into the state of its key; return the new state and the effects."""
    if isinstance(event, SalesforceChanged):
        changed, decision = on_sf_change(_hub(state), event.change, rules, now)
        return changed, _effects(decision, event.source, now)
    if isinstance(event, Forwarded):
        linked = _hub(state)
        if linked is None:
            return None, [Skip(f"no hub {event.link_key} for a forwarded change")]
        changed, decision = on_pms_change(linked, event.flow, event.change, rules, now)
        return changed, _effects(decision, event.source, now)
    if isinstance(event, WriteAcked):
        found, decision = on_result(_hub(state), event.result, rules, now)
        return found, _effects(decision, event.result.cause, now)
    if isinstance(event, LinkAccepted):
        claimant = _hub(state)
        if claimant is None:
            return None, [Skip(f"no hub {event.link.link_key} for an accepted claim")]
        decision = Decision()
        flow = rules.flows.get(event.link.flow)
        if flow is None:
            return claimant, [Skip(f"unknown flow {event.link.flow}")]
        link_accepted(claimant, flow, event.link, rules, now, decision)
        return claimant, _effects(decision, None, now)
    if isinstance(event, LinkRefused):
        claimant = _hub(state)
        if claimant is None:
            return None, [Skip(f"no hub {event.link.link_key} for a refused link")]
        decision = Decision()
        flow = rules.flows.get(event.link.flow)
        if flow is None:
            return claimant, [Skip(f"unknown flow {event.link.flow}")]
        link_refused(claimant, flow, event.link.pms_id, rules, now, decision)
        return claimant, _effects(decision, None, now)
    if isinstance(event, CustompmsChanged):
        result = routes.on_pms_change(_route(state), event.change, event.raw, rules)
        return result.route, _route_effects(result, event.source, now)
    if isinstance(event, LinkClaimed | LinkReleased):
        result = routes.on_link_change(_route(state), event.link, rules, now)
        return result.route, _route_effects(result, None, now)
    if isinstance(event, Tombstone):
        return state, [Skip(f"tombstone on {event.topic}")]
    raise TypeError(f"not an engine event: {event!r}")


def _hub(state: State) -> Hub | None:
    if state is not None and not isinstance(state, Hub):
        raise TypeError(f"a hub event met route state {state!r}")
    return state


def _route(state: State) -> Route | None:
    if state is not None and not isinstance(state, Route):
        raise TypeError(f"a route event met hub state {state!r}")
    return state


def _effects(decision: Decision, cause: Source | None, now: int) -> list[Effect]:
    effects: list[Effect] = [
        IssueWrite(command) for command in commands_for(decision.writes, cause, now)
    ]
    effects += [AnnounceLink(link) for link in decision.links]
    effects += [Reject(problem) for problem in decision.problems]
    if decision.skipped:
        effects.append(Skip(decision.skipped))
    return effects


def _route_effects(result: routes.RouteDecision, cause: Source | None, now: int) -> list[Effect]:
    # The answer first: the hub must hold the link before the changes parked for it arrive.
    effects: list[Effect] = [AnswerClaim(answer) for answer in result.answers]
    effects += [Forward(key, flow, raw) for key, flow, raw in result.forward]
    effects += [IssueWrite(command) for command in commands_for(result.writes, cause, now)]
    effects += [Reject(problem) for problem in result.problems]
    if result.skipped:
        effects.append(Skip(result.skipped))
    return effects
