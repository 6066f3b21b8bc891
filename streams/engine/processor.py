"""What the engine does with each consumed record, independent of Faust.

The Faust agents (streams/engine/app.py), the replay tool and the benchmarks all drive this
class. `handle` decodes a record, loads the link state, calls the pure core, stores the new
state and returns what should happen (`Outcome`: write intents, link changes, forwards,
problems); `encode` turns an outcome into records to produce. Anything that goes wrong with
one record becomes a dead letter naming the record; it never stops the stream.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from foundation.errors import SyncError
from foundation.kafka import topics as t
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
from streams.core.model import Decision, LinkChange, Problem, WriteIntent
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


@dataclass
class Outcome:
    """What one consumed record leads to, before encoding."""

    origin: Origin
    key: bytes | None
    value: bytes | None
    cause: Mapping[str, Any] | None = None
    writes: list[WriteIntent] = field(default_factory=list)
    links: list[LinkChange] = field(default_factory=list)
    forward: list[tuple[str, str, bytes]] = field(default_factory=list)
    rejected: list[LinkChange] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    undecodable: Exception | None = None


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


class MemoryHubs:
    """A HubStore of live objects (replay, benchmarks, tests)."""

    def __init__(self) -> None:
        self.data: dict[str, Hub] = {}

    def get(self, key: str) -> Hub | None:
        return self.data.get(key)

    def put(self, key: str, hub: Hub) -> None:
        self.data[key] = hub


class MemoryRoutes:
    """A RouteStore of live objects."""

    def __init__(self) -> None:
        self.data: dict[str, Route] = {}

    def get(self, key: str) -> Route | None:
        return self.data.get(key)

    def put(self, key: str, route: Route | None) -> None:
        if route is None:
            self.data.pop(key, None)
        else:
            self.data[key] = route


def now_ms() -> int:
    return int(time.time() * 1000)


class Processor:
    """Turns consumed records into outcomes (and records to produce) through the core."""

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

    def dispatch(
        self,
        origin: Origin,
        key: bytes | None,
        value: bytes | None,
        headers: Mapping[str, bytes],
        hubs: HubStore,
        route_store: RouteStore,
    ) -> list[Emit]:
        """Process one record and return the records to produce."""
        return self.encode(self.handle(origin, key, value, headers, hubs, route_store))

    def handle(
        self,
        origin: Origin,
        key: bytes | None,
        value: bytes | None,
        headers: Mapping[str, bytes],
        hubs: HubStore,
        route_store: RouteStore,
    ) -> Outcome:
        """Decide what one record from an (unprefixed) input topic leads to."""
        out = Outcome(origin, key, value)
        name = origin.topic
        try:
            if value is None:
                self.counts["tombstone"] += 1
            elif name.startswith("salesforce.") and name.endswith(".changes"):
                self._sf_change(out, hubs)
            elif name == t.INBOX:
                self._inbox(out, headers, hubs)
            elif name == t.ACKS:
                self._ack(out, hubs)
            elif name.startswith("custompms.") and name.endswith(".changes"):
                self._pms_change(out, route_store)
            elif name == t.ROUTES:
                self._link_event(out, route_store)
            else:
                raise ValueError(f"the engine does not consume {name}")
        except Exception as exc:  # one bad record must not stop the stream
            log.warning("dead-lettering a record from %s: %s", name, exc)
            out.undecodable = exc
        return out

    # -- hub side (keyed by Salesforce id) --------------------------------------------------
    def _sf_change(self, out: Outcome, hubs: HubStore) -> None:
        assert out.value is not None
        envelope = self.codecs.decode(out.origin.topic, out.value)
        change = change_from_envelope(envelope)
        hub, decision = decide.on_sf_change(hubs.get(change.id), change, self.rules, self.clock())
        hubs.put(change.id, hub)
        self._take(out, decision, envelope["source"])

    def _inbox(self, out: Outcome, headers: Mapping[str, bytes], hubs: HubStore) -> None:
        """A Custompms change forwarded to its hub (key: the link key; header: the flow)."""
        assert out.value is not None
        flow = headers.get(FLOW_HEADER, b"").decode()
        envelope = self.codecs.decode(t.INBOX, out.value)
        hub = hubs.get(out.key.decode()) if out.key else None
        if hub is None:
            self.counts["skipped"] += 1
            return
        change = change_from_envelope(envelope)
        hub, decision = decide.on_pms_change(hub, flow, change, self.rules, self.clock())
        hubs.put(hub.sf_id, hub)
        self._take(out, decision, envelope["source"])

    def _ack(self, out: Outcome, hubs: HubStore) -> None:
        assert out.value is not None
        result = self.codecs.decode(t.ACKS, out.value)
        outcome = outcome_from_result(result)
        hub, decision = decide.on_outcome(
            hubs.get(result_key(result)), outcome, self.rules, self.clock()
        )
        if hub is not None:
            hubs.put(hub.sf_id, hub)
        self.counts[f"result_{result['outcome']}"] += 1
        self._take(out, decision, result.get("cause"))

    # -- route side (keyed by Custompms id) -------------------------------------------------
    def _pms_change(self, out: Outcome, route_store: RouteStore) -> None:
        assert out.value is not None
        envelope = self.codecs.decode(out.origin.topic, out.value)
        change = change_from_envelope(envelope)
        result = routes.on_pms_change(route_store.get(change.id), change, out.value, self.rules)
        route_store.put(change.id, result.route)
        out.forward.extend(result.forward)
        decision = Decision(writes=result.writes, problems=result.problems, skipped=result.skipped)
        self._take(out, decision, envelope["source"])

    def _link_event(self, out: Outcome, route_store: RouteStore) -> None:
        assert out.value is not None
        change = link_change_from_event(self.codecs.decode(t.ROUTES, out.value))
        result = routes.on_link_change(route_store.get(change.pms_id), change)
        route_store.put(change.pms_id, result.route)
        out.forward.extend(result.forward)
        out.rejected.extend(result.rejected)
        out.problems.extend(result.problems)

    def _take(self, out: Outcome, decision: Decision, cause: Mapping[str, Any] | None) -> None:
        out.cause = cause
        out.writes.extend(decision.writes)
        out.links.extend(decision.links)
        out.problems.extend(decision.problems)
        if decision.skipped:
            self.counts["skipped"] += 1

    # -- output -----------------------------------------------------------------------------
    def encode(self, out: Outcome) -> list[Emit]:
        """The records an outcome produces."""
        now = self.clock()
        emits: list[Emit] = []
        for intent in out.writes:
            command = command_from_intent(intent, out.cause, now)
            topic = t.writes_topic(intent.system, intent.entity.lower())
            emits.append(
                Emit(topic, intent.partition_key.encode(), self.codecs.encode(topic, command))
            )
            self.counts[f"write_{intent.system}_{intent.action}"] += 1
        for change in out.links:
            value = self.codecs.encode(t.ROUTES, link_event(change, now))
            emits.append(Emit(t.ROUTES, change.pms_id.encode(), value))
        self.counts["forwarded"] += len(out.forward)
        for link_key, flow, raw in out.forward:
            emits.append(Emit(t.INBOX, link_key.encode(), raw, ((FLOW_HEADER, flow.encode()),)))
        for rejected in out.rejected:
            reason = out.problems[0].reason if out.problems else "already linked"
            reply = self.codecs.encode(t.ACKS, rejection_result(rejected, reason, now))
            emits.append(Emit(t.ACKS, rejected.link_key.encode(), reply))
        for problem in out.problems:
            emits.append(self._dead_letter(problem, out, with_key=False))
        if out.undecodable is not None:
            exc = out.undecodable
            record = (out.key or b"").decode(errors="replace")
            if isinstance(exc, SyncError):
                reason = exc.describe()
            else:
                # A decoder's own words ("list index out of range") say little: name the
                # record, the topic and what was expected.
                reason = (
                    f"cannot read record {record or '(no key)'} from {out.origin.topic}: "
                    f"{type(exc).__name__}: {exc or 'no detail'}; expected a Confluent Avro "
                    "frame of the topic's registered schema"
                )
            problem = Problem(
                flow=getattr(exc, "flow", None) or None,
                record=getattr(exc, "record", None) or record,
                field=getattr(exc, "field", None),
                error_class=type(exc).__name__,
                reason=reason,
            )
            emits.append(self._dead_letter(problem, out, with_key=True))
        return emits

    def _dead_letter(self, problem: Problem, out: Outcome, *, with_key: bool) -> Emit:
        self.counts["dead_letter"] += 1
        record = dead_letter_for(
            problem,
            stage="engine",
            now=self.clock(),
            topic=out.origin.topic,
            partition=out.origin.partition,
            offset=out.origin.offset,
            key=out.key if with_key else None,
            value=out.value,
        )
        dlq_key = (problem.record or "unknown").encode()
        return Emit(t.DEADLETTER, dlq_key, self.codecs.encode(t.DEADLETTER, record))
