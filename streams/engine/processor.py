"""What the engine does with each consumed record, independent of Faust.

The Faust agents (streams/engine/app.py), the replay tool and the benchmarks all drive this
class: it decodes a record, loads the link state, calls the pure core, stores the new state
and returns the records to produce. Anything that goes wrong with one record becomes a
dead letter naming the record; it never stops the stream.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sfpms.kafka import topics as t
from streams.core import decide, routes
from streams.core.envelopes import (
    change_from_envelope,
    command_from_intent,
    dead_letter_for,
    link_change_from_event,
    link_event,
    outcome_from_result,
    rejection_result,
    result_key,
)
from streams.core.hub import Hub
from streams.core.model import Decision, Problem
from streams.core.routes import Route
from streams.engine.codecs import EngineCodecs

log = logging.getLogger(__name__)

FLOW_HEADER = "sfpms-flow"


@dataclass(frozen=True, slots=True)
class Emit:
    """One record to produce: unprefixed catalogue topic, key, value, headers."""

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a consumed record came from (for dead letters)."""

    topic: str
    partition: int | None = None
    offset: int | None = None


class HubStore(Protocol):
    def get(self, key: str) -> Hub | None: ...

    def put(self, key: str, hub: Hub) -> None: ...


class RouteStore(Protocol):
    def get(self, key: str) -> Route | None: ...

    def put(self, key: str, route: Route | None) -> None: ...


def encode_hub(hub: Hub) -> bytes:
    return json.dumps(hub.to_json(), separators=(",", ":")).encode()


def decode_hub(data: bytes) -> Hub:
    return Hub.from_json(json.loads(data))


def encode_route(route: Route) -> bytes:
    return json.dumps(route.to_json(), separators=(",", ":")).encode()


def decode_route(data: bytes) -> Route:
    return Route.from_json(json.loads(data))


class DictHubs:
    """A HubStore in a dict of encoded hubs (replay, benchmarks, tests)."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, key: str) -> Hub | None:
        raw = self.data.get(key)
        return decode_hub(raw) if raw is not None else None

    def put(self, key: str, hub: Hub) -> None:
        self.data[key] = encode_hub(hub)


class DictRoutes:
    """A RouteStore in a dict."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, key: str) -> Route | None:
        raw = self.data.get(key)
        return decode_route(raw) if raw is not None else None

    def put(self, key: str, route: Route | None) -> None:
        if route is None:
            self.data.pop(key, None)
        else:
            self.data[key] = encode_route(route)


def now_ms() -> int:
    return int(time.time() * 1000)


class Processor:
    """Turns consumed records into produced records, through the pure core."""

    def __init__(
        self,
        codecs: EngineCodecs,
        rules: decide.Rules,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.codecs = codecs
        self.rules = rules
        self.clock = clock
        self.counts: Counter[str] = Counter()

    # -- dispatch ---------------------------------------------------------------------------
    def dispatch(
        self,
        origin: Origin,
        key: bytes | None,
        value: bytes | None,
        headers: Mapping[str, bytes],
        hubs: HubStore,
        route_store: RouteStore,
    ) -> list[Emit]:
        """Process one record from an (unprefixed) input topic."""
        name = origin.topic
        try:
            if value is None:
                self.counts["tombstone"] += 1
                return []
            if name.startswith("salesforce.") and name.endswith(".changes"):
                return self._sf_change(name, value, hubs)
            if name == t.INBOX:
                return self._inbox(key, value, headers, hubs)
            if name == t.ACKS:
                return self._ack(value, hubs)
            if name.startswith("custompms.") and name.endswith(".changes"):
                return self._pms_change(name, value, route_store)
            if name == t.ROUTES:
                return self._link_event(value, route_store)
            raise ValueError(f"the engine does not consume {name}")
        except Exception as exc:  # one bad record must not stop the stream
            self.counts["dead_letter"] += 1
            log.warning("dead-lettering a record from %s: %s", name, exc)
            problem = Problem(
                flow="",
                record=(key or b"").decode(errors="replace"),
                field=getattr(exc, "field", None),
                error_class=type(exc).__name__,
                reason=str(exc) or type(exc).__name__,
            )
            return [self._dead_letter(problem, origin, key, value)]

    # -- hub side (keyed by Salesforce id) --------------------------------------------------
    def _sf_change(self, topic: str, value: bytes, hubs: HubStore) -> list[Emit]:
        envelope = self.codecs.decode(topic, value)
        change = change_from_envelope(envelope)
        hub, decision = decide.on_sf_change(hubs.get(change.id), change, self.rules, self.clock())
        hubs.put(change.id, hub)
        return self._emit(decision, envelope["source"], Origin(topic), value)

    def _inbox(
        self, key: bytes | None, value: bytes, headers: Mapping[str, bytes], hubs: HubStore
    ) -> list[Emit]:
        """A Custompms change forwarded to its hub (key: the link key; header: the flow)."""
        flow = headers.get(FLOW_HEADER, b"").decode()
        envelope = self.codecs.decode(t.INBOX, value)
        change = change_from_envelope(envelope)
        hub = hubs.get(key.decode()) if key else None
        if hub is None:
            self.counts["skipped"] += 1
            return []
        hub, decision = decide.on_pms_change(hub, flow, change, self.rules, self.clock())
        hubs.put(hub.sf_id, hub)
        return self._emit(decision, envelope["source"], Origin(t.INBOX), value)

    def _ack(self, value: bytes, hubs: HubStore) -> list[Emit]:
        result = self.codecs.decode(t.ACKS, value)
        outcome = outcome_from_result(result)
        key = result_key(result)
        hub, decision = decide.on_outcome(hubs.get(key), outcome, self.rules, self.clock())
        if hub is not None:
            hubs.put(hub.sf_id, hub)
        self.counts[f"result_{result['outcome']}"] += 1
        return self._emit(decision, result.get("cause"), Origin(t.ACKS), value)

    # -- route side (keyed by Custompms id) -------------------------------------------------
    def _pms_change(self, topic: str, value: bytes, route_store: RouteStore) -> list[Emit]:
        envelope = self.codecs.decode(topic, value)
        change = change_from_envelope(envelope)
        result = routes.on_pms_change(route_store.get(change.id), change, value, self.rules)
        route_store.put(change.id, result.route)
        emits = self._forward(result.forward)
        decision = Decision(writes=result.writes, problems=result.problems, skipped=result.skipped)
        return emits + self._emit(decision, envelope["source"], Origin(topic), value)

    def _link_event(self, value: bytes, route_store: RouteStore) -> list[Emit]:
        change = link_change_from_event(self.codecs.decode(t.ROUTES, value))
        result = routes.on_link_change(route_store.get(change.pms_id), change)
        route_store.put(change.pms_id, result.route)
        emits = self._forward(result.forward)
        now = self.clock()
        for rejected in result.rejected:
            reply = rejection_result(rejected, result.problems[0].reason, now)
            emits.append(
                Emit(t.ACKS, rejected.link_key.encode(), self.codecs.encode(t.ACKS, reply))
            )
        for problem in result.problems:
            emits.append(self._dead_letter(problem, Origin(t.ROUTES), None, value))
        return emits

    def _forward(self, forward: Sequence[tuple[str, str, bytes]]) -> list[Emit]:
        self.counts["forwarded"] += len(forward)
        return [
            Emit(t.INBOX, link_key.encode(), raw, ((FLOW_HEADER, flow.encode()),))
            for link_key, flow, raw in forward
        ]

    # -- output -----------------------------------------------------------------------------
    def _emit(
        self,
        decision: Decision,
        cause: Mapping[str, Any] | None,
        origin: Origin,
        value: bytes,
    ) -> list[Emit]:
        now = self.clock()
        emits: list[Emit] = []
        for intent in decision.writes:
            command = command_from_intent(intent, cause, now)
            topic = t.writes_topic(intent.system, intent.entity.lower())
            emits.append(
                Emit(topic, intent.partition_key.encode(), self.codecs.encode(topic, command))
            )
            self.counts[f"write_{intent.system}_{intent.action}"] += 1
        for change in decision.links:
            emits.append(
                Emit(
                    t.ROUTES,
                    change.pms_id.encode(),
                    self.codecs.encode(t.ROUTES, link_event(change, now)),
                )
            )
        for problem in decision.problems:
            emits.append(self._dead_letter(problem, origin, None, value))
        if decision.skipped:
            self.counts["skipped"] += 1
        return emits

    def _dead_letter(
        self, problem: Problem, origin: Origin, key: bytes | None, value: bytes | None
    ) -> Emit:
        self.counts["problems"] += 1
        record = dead_letter_for(
            problem,
            stage="engine",
            now=self.clock(),
            topic=origin.topic,
            partition=origin.partition,
            offset=origin.offset,
            key=key,
            value=value,
        )
        dlq_key = (problem.record or "unknown").encode()
        return Emit(t.DEADLETTER, dlq_key, self.codecs.encode(t.DEADLETTER, record))
