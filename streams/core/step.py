"""The one dispatcher: `step(state, event) -> (state, effects)`. Pure.

The caller loads the state of `event.key` from `event.table` (a `Hub` for hub events, a
`Route` for route events, None when there is none yet), calls `step`, stores what it
returns under the same key and carries the effects out. Nothing else decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streams.core import routes
from streams.core.events import (
    AnnounceLink,
    CustompmsChanged,
    Effect,
    Event,
    Forward,
    Forwarded,
    IssueWrite,
    LinkClaimed,
    LinkRefused,
    LinkReleased,
    RefuseLink,
    Reject,
    SalesforceChanged,
    Skip,
    Tombstone,
    WriteAcked,
)
from streams.core.fold import on_pms_change, on_sf_change
from streams.core.hub import Hub
from streams.core.model import Decision
from streams.core.results import link_refused, on_outcome
from streams.core.routes import Route
from streams.core.rules import Rules

State = Hub | Route | None


def step(state: State, event: Event, rules: Rules, now: int) -> tuple[State, list[Effect]]:
    """Fold one event into the state of its key; return the new state and the effects."""
    if isinstance(event, SalesforceChanged):
        changed, decision = on_sf_change(_hub(state), event.change, rules, now)
        return changed, _effects(decision, event.source)
    if isinstance(event, Forwarded):
        linked = _hub(state)
        if linked is None:
            return None, [Skip(f"no hub {event.link_key} for a forwarded change")]
        changed, decision = on_pms_change(linked, event.flow, event.change, rules, now)
        return changed, _effects(decision, event.source)
    if isinstance(event, WriteAcked):
        found, decision = on_outcome(_hub(state), event.outcome, rules, now)
        return found, _effects(decision, event.cause)
    if isinstance(event, LinkRefused):
        claimant = _hub(state)
        if claimant is None:
            return None, [Skip(f"no hub {event.link.link_key} for a refused link")]
        decision = Decision()
        flow = rules.flows.get(event.link.flow)
        if flow is None:
            return claimant, [Skip(f"unknown flow {event.link.flow}")]
        link_refused(claimant, flow, event.link.pms_id, rules, now, decision)
        return claimant, _effects(decision, None)
    if isinstance(event, CustompmsChanged):
        result = routes.on_pms_change(_route(state), event.change, event.raw, rules)
        return result.route, _route_effects(result, event.source)
    if isinstance(event, LinkClaimed | LinkReleased):
        result = routes.on_link_change(_route(state), event.link)
        return result.route, _route_effects(result, None)
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


def _effects(decision: Decision, cause: Mapping[str, Any] | None) -> list[Effect]:
    effects: list[Effect] = [IssueWrite(intent, cause) for intent in decision.writes]
    effects += [AnnounceLink(link) for link in decision.links]
    effects += [Reject(problem) for problem in decision.problems]
    if decision.skipped:
        effects.append(Skip(decision.skipped))
    return effects


def _route_effects(result: routes.RouteDecision, cause: Mapping[str, Any] | None) -> list[Effect]:
    effects: list[Effect] = [Forward(key, flow, raw) for key, flow, raw in result.forward]
    effects += [IssueWrite(intent, cause) for intent in result.writes]
    reason = result.problems[0].reason if result.problems else "already linked"
    effects += [RefuseLink(link, reason) for link in result.rejected]
    effects += [Reject(problem) for problem in result.problems]
    if result.skipped:
        effects.append(Skip(result.skipped))
    return effects
