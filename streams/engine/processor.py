"""One consumed record through the engine: read it, step its state, write its effects.

The Faust agents (streams/engine/app.py), replay (streams/engine/replay.py) and the benchmarks
drive this class; it knows neither Faust nor consumers. `handle` reads a record into an event
(streams/engine/topology.py), loads the state of its key, calls the one dispatcher
(`streams.core.step.step`), stores the new state and returns the effects and the records to
produce. Anything that goes wrong with one record becomes a dead letter naming the record;
it never stops the stream.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from foundation import metrics
from streams.core.events import Effect, Event, IssueWrite, Reject, Skip
from streams.core.hub import Hub
from streams.core.routes import Route
from streams.core.rules import Rules
from streams.core.step import State, step
from streams.engine import topology
from streams.engine.topology import Codecs, Consumed, Outgoing

log = logging.getLogger(__name__)


class StateStore(Protocol):
    """Where the state of one table lives (a Faust table overlay, or a dict)."""

    def get(self, key: str) -> State: ...

    def put(self, key: str, state: State) -> None: ...


@dataclass(frozen=True, slots=True)
class Stores:
    """The engine's two tables: hubs keyed by Salesforce id, routes keyed by Custompms id."""

    hubs: StateStore
    routes: StateStore

    def of(self, event: Event) -> StateStore:
        return self.hubs if event.table == "hubs" else self.routes


@dataclass
class Handled:
    """What one consumed record led to."""

    record: Consumed
    event: Event | None = None
    effects: list[Effect] = field(default_factory=list)
    outgoing: list[Outgoing] = field(default_factory=list)


def encode_hub(hub: Hub) -> bytes:
    return json.dumps(hub.to_json(), separators=(",", ":")).encode()


def decode_hub(data: bytes) -> Hub:
    return Hub.from_json(json.loads(data))


def encode_route(route: Route) -> bytes:
    return json.dumps(route.to_json(), separators=(",", ":")).encode()


def decode_route(data: bytes) -> Route:
    return Route.from_json(json.loads(data))


class MemoryStore:
    """A StateStore of live objects over a dict (replay, benchmarks, tests)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def get(self, key: str) -> State:
        state: State = self.data.get(key)
        return state

    def put(self, key: str, state: State) -> None:
        if state is None:
            self.data.pop(key, None)
        else:
            self.data[key] = state


@dataclass
class MemoryTables:
    """Both tables as dicts of live objects, and the stores the Processor reads them by."""

    hubs: dict[str, Hub] = field(default_factory=dict)
    routes: dict[str, Route] = field(default_factory=dict)

    @property
    def stores(self) -> Stores:
        return Stores(MemoryStore(self.hubs), MemoryStore(self.routes))


def now_ms() -> int:
    return int(time.time() * 1000)


class Processor:
    """Turns consumed records into effects and records to produce, through the core."""

    def __init__(
        self,
        codecs: Codecs,
        rules: Rules,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.codecs = codecs
        self.rules = rules
        self.clock = clock
        self.counts: Counter[str] = Counter()

    def dispatch(self, record: Consumed, stores: Stores) -> list[Outgoing]:
        """Process one record and return the records to produce."""
        handled = self.handle(record, stores)
        return self.encode(handled)

    def handle(self, record: Consumed, stores: Stores) -> Handled:
        """Read one record, step its state and keep the effects (not yet encoded)."""
        handled = Handled(record)
        try:
            event = handled.event = topology.read(record, self.codecs)
            store = stores.of(event)
            state, handled.effects = step(store.get(event.key), event, self.rules, self.clock())
            store.put(event.key, state)
        except Exception as exc:  # one bad record must not stop the stream
            log.warning("dead-lettering a record from %s: %s", record.topic, exc)
            handled.effects = [Reject(topology.unreadable(record, exc))]
            handled.event = None
        kind = type(handled.event).__name__ if handled.event is not None else "Unreadable"
        self.counts[f"event_{kind}"] += 1
        metrics.ENGINE_EVENTS.labels(kind).inc()
        return handled

    def encode(self, handled: Handled) -> list[Outgoing]:
        """The records one handled record produces."""
        now = self.clock()
        out = handled.outgoing
        for effect in handled.effects:
            if isinstance(effect, Reject):
                self.counts["dead_letter"] += 1
                out.append(topology.dead_letter(effect.problem, handled.record, self.codecs, now))
                continue
            if isinstance(effect, Skip):
                self.counts["skipped"] += 1
                continue
            if isinstance(effect, IssueWrite):
                for op in effect.command.ops:
                    self.counts[f"write_{effect.command.system}_{op.action}"] += 1
            out.extend(topology.write(effect, self.codecs))
        return out
