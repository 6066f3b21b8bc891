"""A small in-memory world for the decision core: two systems, CDC, sinks and the engine.

The engine is real here: every consumed record goes through the same `Processor`, topology
and dispatcher (`streams.core.step`) as the live Faust agents and replay, with a pickling
codec instead of Avro. The systems and the "broker" are dictionaries and per-key FIFO
queues, so a hypothesis state machine can try any interleaving of people's edits,
deliveries, redeliveries and coalesced CDC polls, then check that both sides converged with
no duplicates. Queues are keyed like the real topics, so only the orderings Kafka allows are
explored.
"""

from __future__ import annotations

import copy
import pickle
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from foundation.kafka import topics as t
from foundation.wire import WriteResult
from streams.core.events import Reject
from streams.core.hub import Hub
from streams.core.model import EXTERNAL_ID_FIELD, Problem
from streams.core.routes import Route
from streams.core.rules import Rules
from streams.core.values import canonical
from streams.engine.processor import MemoryTables, Processor, Stores
from streams.engine.topology import Consumed
from streams.mapping.apply import nest, set_path
from streams.mapping.matching import normalise_name

SYNC_USER = "005SYNC"
PERSON_USER = "005PERSON"
SYNC_CLIENT = "sfpms"

SF_PREFIX = {"Task": "00T", "Division": "02d", "Organization": "00D"}
PMS_PREFIX = {"customer": "cus", "project": "prj", "task": "tsk"}
SF_REQUIRED_DEFAULTS = {"Task": {"Status": "Not Started", "Priority": "Normal"}, "Division": {}}
PMS_DEFAULTS: dict[str, dict[str, Any]] = {
    "customer": {"kind": "company", "active": True},
    "project": {"status": "planned", "priority": "medium"},
    "task": {"status": "todo", "priority": "medium"},
}


@dataclass
class World:
    """Both systems, the queues between them and the engine's two tables."""

    rules: Rules
    clock: int = 1_000
    sf: dict[str, dict[str, Any]] = field(default_factory=dict)
    pms: dict[str, dict[str, Any]] = field(default_factory=dict)
    sf_deleted: set[str] = field(default_factory=set)
    pms_deleted: set[str] = field(default_factory=set)
    idempotency: dict[str, str] = field(default_factory=dict)
    sync_created_pms: list[str] = field(default_factory=list)
    sync_created_sf: list[str] = field(default_factory=list)
    queues: dict[tuple[str, str], deque[Any]] = field(default_factory=lambda: defaultdict(deque))
    last: dict[tuple[str, str], Any] = field(default_factory=dict)
    tables: MemoryTables = field(default_factory=MemoryTables)
    problems: list[Problem] = field(default_factory=list)
    own_versions: dict[str, dict[int, int]] = field(default_factory=dict)
    uncommitted: list[tuple[tuple[str, str], Any]] = field(default_factory=list)
    stored: tuple[dict[str, Hub], dict[str, Route]] = field(default_factory=lambda: ({}, {}))
    writes_applied: int = 0
    sequence: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    #: extra `source` fields of the next captures per side ("sf"/"pms"), e.g. scope tags
    capture: dict[str, dict[str, Any]] = field(default_factory=dict)
    processor: Processor = field(init=False)
    stores: Stores = field(init=False)

    def __post_init__(self) -> None:
        self.processor = Processor(PickleCodecs(), self.rules, clock=self.tick)
        self.stores = self.tables.stores

    @property
    def hubs(self) -> dict[str, Hub]:
        """The link table (hubs keyed by Salesforce id)."""
        return self.tables.hubs

    @property
    def route_table(self) -> dict[str, Route]:
        """The routing table (routes keyed by Custompms id)."""
        return self.tables.routes

    # -- time and ids -----------------------------------------------------------------------
    def tick(self) -> int:
        self.clock += 7
        return self.clock

    def new_id(self, prefix: str) -> str:
        self.sequence += 1
        return f"{prefix}{self.sequence:06d}"

    # -- people --------------------------------------------------------------------------
    def sf_person_create(self, sf_object: str, values: Mapping[str, Any]) -> str:
        record_id = self.new_id(SF_PREFIX[sf_object])
        record = {"Id": record_id, **SF_REQUIRED_DEFAULTS.get(sf_object, {}), **values}
        self._sf_store(sf_object, record_id, record, PERSON_USER, created=True)
        return record_id

    def sf_person_edit(self, record_id: str, values: Mapping[str, Any]) -> None:
        if record_id in self.sf and record_id not in self.sf_deleted:
            record = {**self.sf[record_id], **values}
            self._sf_store(record["_type"], record_id, record, PERSON_USER)

    def sf_person_delete(self, record_id: str) -> None:
        if record_id in self.sf and record_id not in self.sf_deleted:
            self._sf_delete(record_id, PERSON_USER)

    def pms_person_create(self, resource: str, values: Mapping[str, Any]) -> str:
        record_id = self.new_id(PMS_PREFIX[resource] + "_")
        record = nest({**PMS_DEFAULTS[resource], **values})
        self._pms_store(resource, record_id, record, "alice", created=True)
        return record_id

    def pms_person_edit(self, record_id: str, values: Mapping[str, Any]) -> None:
        if record_id in self.pms and record_id not in self.pms_deleted:
            record = copy.deepcopy(self.pms[record_id])
            for path, value in values.items():
                set_path(record, path, value)
            self._pms_store(record["_type"], record_id, record, "alice")

    def pms_person_delete(self, record_id: str) -> None:
        if record_id in self.pms and record_id not in self.pms_deleted:
            self._pms_delete(record_id, "alice")

    # -- the two systems ---------------------------------------------------------------------
    def _sf_store(
        self,
        sf_object: str,
        record_id: str,
        record: dict[str, Any],
        user: str,
        created: bool = False,
    ) -> None:
        now = self.tick()
        record = {**record, "_type": sf_object, "SystemModstamp": now, "LastModifiedById": user}
        if created:
            record["CreatedById"] = user
        self.sf[record_id] = record
        origin = "sync" if user == SYNC_USER else "person"
        self._cdc("sf", record_id, "c" if created else "u", None, record, origin, now)

    def _sf_delete(self, record_id: str, user: str) -> None:
        now = self.tick()
        self.sf_deleted.add(record_id)
        origin = "sync" if user == SYNC_USER else "person"
        self._cdc("sf", record_id, "d", self.sf[record_id], None, origin, now)

    def _pms_store(
        self,
        resource: str,
        record_id: str,
        record: dict[str, Any],
        actor: str,
        created: bool = False,
    ) -> None:
        if not created and _content(record) == _content(self.pms[record_id]):
            return  # a write that changes nothing keeps the version and makes no change
        now = self.tick()
        version = 1 if created else self.pms[record_id]["version"] + 1
        record = {
            **record,
            "_type": resource,
            "id": record_id,
            "version": version,
            "updated_at": now,
        }
        self.pms[record_id] = record
        origin = "sync" if actor == SYNC_CLIENT else "person"
        self._cdc("pms", record_id, "c" if created else "u", None, record, origin, now)

    def _pms_delete(self, record_id: str, actor: str) -> None:
        now = self.tick()
        self.pms_deleted.add(record_id)
        origin = "sync" if actor == SYNC_CLIENT else "person"
        self._cdc("pms", record_id, "d", self.pms[record_id], None, origin, now)

    def _cdc(
        self,
        side: str,
        record_id: str,
        op: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        origin: str,
        ts: int,
    ) -> None:
        record = after if after is not None else before
        assert record is not None
        if side == "pms" and origin == "sync":
            # Custompms CDC does not publish the sync's own changes: the write results carry
            # what they wrote (connectors/cdc/custompms_source.py).
            return
        envelope = {
            "op": op,
            "before": copy.deepcopy(before),
            "after": copy.deepcopy(after),
            "source": {
                "system": "salesforce" if side == "sf" else "custompms",
                "entity": record["_type"],
                "id": record_id,
                "version": record.get("version"),
                "modstamp": ts,
                "origin": origin,
                "seq": None,
                **self.capture.get(side, {}),
            },
            "ts_ms": ts,
        }
        self.queues[(f"{side}-cdc", record_id)].append(envelope)
        self.history.append(copy.deepcopy(envelope))

    # -- delivery ---------------------------------------------------------------------------
    def pending(self) -> list[tuple[str, str]]:
        return sorted(key for key, queue in self.queues.items() if queue)

    def coalesce(self, key: tuple[str, str]) -> None:
        """A CDC poll sees only the latest state of a record: drop the older updates."""
        queue = self.queues[key]
        if key[0].endswith("cdc") and len(queue) > 1 and all(e["op"] != "d" for e in queue):
            latest = queue[-1]
            queue.clear()
            queue.append(latest)

    def deliver(self, key: tuple[str, str], redeliver: bool = False) -> None:
        """Process the head of one queue (or re-process the last item: at-least-once)."""
        if redeliver and key in self.last:
            item = self.last[key]
        else:
            queue = self.queues[key]
            if not queue:
                return
            item = queue.popleft()
            self.last[key] = item
        if key[0] == "writes":
            self._sink(item)
        else:
            if not redeliver:
                self.uncommitted.append((key, item))
            self._engine(key[0], item)

    def lose_answer(self, key: tuple[str, str]) -> None:
        """A sink applies the head command of a write queue and its answer is lost (the
        response dropped after the apply, or the sink killed before reporting): no result,
        the sink forgets which versions it made, and the command is delivered again."""
        queue = self.queues[key]
        assert key[0] == "writes" and queue, f"no write command queued at {key}"
        self._apply(queue[0])  # the result is never published
        self.own_versions.clear()

    # -- an engine worker's crash -------------------------------------------------------------
    def commit(self) -> None:
        """The engine stores its state and commits its offsets (a batch boundary)."""
        self.stored = copy.deepcopy((self.tables.hubs, self.tables.routes))
        self.uncommitted.clear()

    def crash(self) -> None:
        """The engine dies after producing its outputs and before storing its state: the
        tables go back to what was stored, and every record consumed since is delivered
        again (its outputs, already produced, stay produced)."""
        hubs, routes = copy.deepcopy(self.stored)
        self.tables.hubs.clear()
        self.tables.hubs.update(hubs)
        self.tables.routes.clear()
        self.tables.routes.update(routes)
        for key, item in reversed(self.uncommitted):
            self.queues[key].appendleft(item)
        self.uncommitted.clear()

    def drain(self, limit: int = 20_000) -> int:
        """Deliver everything in a fixed order; returns the steps taken (bounded)."""
        steps = 0
        while steps < limit:
            keys = self.pending()
            if not keys:
                return steps
            self.deliver(keys[0])
            steps += 1
        raise AssertionError(f"queues did not drain in {limit} steps: an echo loop?")

    # -- the engine (what the Faust agents do, through the same Processor) ------------------
    def _engine(self, kind: str, item: Any) -> None:
        record = self._consumed(kind, item)
        handled = self.processor.handle(record, self.stores)
        self.problems.extend(e.problem for e in handled.effects if isinstance(e, Reject))
        for out in self.processor.encode(handled):
            if out.topic == t.DEADLETTER:
                continue
            if out.topic.endswith(".writes"):
                self.queues[("writes", out.key.decode())].append(_decode(out.value))
            else:
                self.queues[(QUEUE_OF_TOPIC[out.topic], out.key.decode())].append(out)

    def _consumed(self, kind: str, item: Any) -> Consumed:
        if kind in ("sf-cdc", "pms-cdc"):
            source = item["source"]
            topic = t.changes_topic(source["system"], source["entity"].lower())
            return Consumed(topic, 0, 0, source["id"].encode(), _encode(item), {})
        if kind == "acks":  # a sink's result
            key = WriteResult.from_avro(item).hub_key.encode()
            return Consumed(t.RESULTS, 0, 0, key, _encode(item), {})
        return Consumed(item.topic, 0, 0, item.key, item.value, dict(item.headers))

    # -- the sinks (what the connector workers do) ------------------------------------------
    def _sink(self, command: dict[str, Any]) -> None:
        """Apply a command and publish its one result."""
        result = self._apply(command)
        key = WriteResult.from_avro(result).hub_key
        self.queues[("acks", key)].append(result)

    def _apply(self, command: dict[str, Any]) -> dict[str, Any]:
        """Apply a command's ops in order (refs filled from earlier creates); its result."""
        outcomes: list[dict[str, Any]] = []
        for op in command["ops"]:
            self.writes_applied += 1
            op = {**op, "link_key": command["link_key"]}
            for name, index in op["refs"].items():
                referenced = outcomes[index]
                if referenced["outcome"] != "ok":
                    op = None
                    break
                op["fields"] = {**op["fields"], name: referenced["target_id"]}
            if op is None:
                outcome = _failed(command["ops"][len(outcomes)], None, "its reference failed")
            elif command["system"] == "custompms":
                outcome = self._sink_pms(op)
            else:
                outcome = self._sink_sf(op)
            outcomes.append(outcome)
        return {
            "command_id": command["command_id"],
            "link_key": command["link_key"],
            "system": command["system"],
            "outcomes": outcomes,
            "cause": command.get("cause"),
            "acked_at": self.clock,
        }

    def _sink_pms(self, op: dict[str, Any]) -> dict[str, Any]:
        fields = op["fields"]
        target = op["target_id"]
        if op["action"] == "create":
            key = op["idempotency_key"]
            if key in self.idempotency:
                target = self.idempotency[key]
                return self._pms_ok(op, target, fields)
            if op["match"]:
                target = self._pms_match(op["entity"], op["match"])
                if target is not None:  # reported, not written, as the real sink does
                    return {**self._pms_ok(op, target, {}), "matched": True}
            target = self.new_id(PMS_PREFIX[op["entity"]] + "_")
            self.idempotency[key] = target
            self.sync_created_pms.append(target)
            record = nest({**PMS_DEFAULTS[op["entity"]], **fields})
            self._pms_store(op["entity"], target, record, SYNC_CLIENT, True)
            return {**self._pms_ok(op, target, fields), "created": True}
        if target not in self.pms or target in self.pms_deleted:
            return _failed(op, target, "404")
        if op["action"] == "delete":
            self._pms_delete(target, SYNC_CLIENT)
            return _ok(op, target, {}, None)
        current = self.pms[target]
        if_match = self._forward(target, op.get("if_match"))
        if if_match is not None and if_match != current["version"]:
            # what connectors/sinks/custompms_target.py does on 412: report the record as it
            # is, so the engine folds the change that made it move and decides again
            return {
                **_failed(op, target, "412 version_mismatch"),
                "outcome": "conflict",
                "version": current["version"],
                "record": _flat(current),
                "target_modstamp": current["updated_at"],
            }
        return self._pms_update(op, target, fields)

    def _pms_update(
        self, op: dict[str, Any], target: str, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        record = copy.deepcopy(self.pms[target])
        before = record["version"]
        for path, value in fields.items():
            set_path(record, path, value)
        self._pms_store(record["_type"], target, record, SYNC_CLIENT)
        after = self.pms[target]["version"]
        if after != before:
            self.own_versions.setdefault(target, {})[before] = after
        return self._pms_ok(op, target, fields)

    def _forward(self, target: str, version: int | None) -> int | None:
        """What connectors/sinks/custompms_target.py does: a version from before the sink's
        own later writes of the record is moved past them (they are not someone's change)."""
        moves = self.own_versions.get(target, {})
        while version in moves:
            version = moves[version]
        return version

    def _pms_ok(self, op: dict[str, Any], target: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        current = self.pms[target]
        return {
            **_ok(op, target, fields, current["version"]),
            "record": _flat(current),
            "target_modstamp": current["updated_at"],
        }

    def _pms_match(self, resource: str, match: Mapping[str, str]) -> str | None:
        for record_id, record in self.pms.items():
            if record["_type"] != resource or record_id in self.pms_deleted:
                continue
            if all(
                normalise_name(str(record.get(k) or "")) == normalise_name(v)
                for k, v in match.items()
            ):
                return record_id
        return None

    def _sink_sf(self, command: dict[str, Any]) -> dict[str, Any]:
        op = command
        fields = dict(command["fields"])
        sf_object = command["entity"]
        if command["action"] == "upsert":
            ext = command["external_id"]
            if any(
                rec.get(EXTERNAL_ID_FIELD) == ext and rid in self.sf_deleted
                for rid, rec in self.sf.items()
            ):  # what the Salesforce sink does: a deleted twin is not made again
                return {**_failed(op, None, "twin deleted"), "outcome": "gone"}
            found = [
                rid
                for rid, rec in self.sf.items()
                if rec.get(EXTERNAL_ID_FIELD) == ext and rid not in self.sf_deleted
            ]
            if found:
                # what the Salesforce sink does: a live twin is a replayed create; it is left
                # as it is (a person may have edited it since), nothing written
                return _ok(op, found[0], {}, None)
            fields[EXTERNAL_ID_FIELD] = ext
            if command["match"]:
                found = [
                    rid
                    for rid, rec in self.sf.items()
                    if rec["_type"] == sf_object
                    and rid not in self.sf_deleted
                    and not rec.get(EXTERNAL_ID_FIELD)
                    and all(
                        normalise_name(str(rec.get(k) or "")) == normalise_name(v)
                        for k, v in command["match"].items()
                    )
                ]
            if found:
                target = found[0]
                record = {**self.sf[target], **fields}
                self._sf_store(sf_object, target, record, SYNC_USER)
                return _ok(op, target, command["fields"], None)
            target = self.new_id(SF_PREFIX[sf_object])
            self.sync_created_sf.append(target)
            record = {"Id": target, **SF_REQUIRED_DEFAULTS.get(sf_object, {}), **fields}
            self._sf_store(sf_object, target, record, SYNC_USER, created=True)
            return {**_ok(op, target, command["fields"], None), "created": True}
        target = command["target_id"]
        if target not in self.sf or target in self.sf_deleted:
            return _failed(op, target, "404")
        if command["action"] == "delete":
            self._sf_delete(target, SYNC_USER)
            return _ok(op, target, {}, None)
        current = self.sf[target]
        if_match = command.get("if_match")
        if if_match is not None and current["SystemModstamp"] > if_match:
            # what connectors/sinks/salesforce_target.py does: changed since, by anyone
            return {
                **_failed(op, target, "changed since"),
                "outcome": "conflict",
                "target_modstamp": current["SystemModstamp"],
            }
        self._sf_store(sf_object, target, {**current, **fields}, SYNC_USER)
        return _ok(op, target, fields, None)


def _outcome(op: Mapping[str, Any], target: str | None, status: str) -> dict[str, Any]:
    return {
        "flow": op["flow"],
        "entity": op["entity"],
        "action": op["action"],
        "outcome": status,
        "target_id": target,
        "created": False,
        "matched": False,
        "version": None,
        "written": {},
        "record": None,
        "target_modstamp": None,
        "error": None,
    }


def _ok(
    op: Mapping[str, Any], target: str, written: Mapping[str, Any], version: int | None
) -> dict[str, Any]:
    return {
        **_outcome(op, target, "ok"),
        "written": {k: canonical(v) for k, v in written.items()},
        "version": version,
    }


def _failed(op: Mapping[str, Any], target: str | None, error: str) -> dict[str, Any]:
    return {**_outcome(op, target, "failed"), "written": dict(op["fields"]), "error": error}


def _content(record: Mapping[str, Any]) -> dict[str, Any]:
    """A Custompms record without what the server maintains (to spot no-op writes)."""
    return {k: v for k, v in record.items() if k not in ("version", "updated_at")}


def _flat(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A Custompms record as the sink reports it: dotted paths, server fields dropped."""
    values: dict[str, Any] = {}
    for key, value in record.items():
        if key.startswith("_"):
            continue
        if isinstance(value, Mapping):
            values.update(_flat(value, f"{prefix}{key}."))
        else:
            values[f"{prefix}{key}"] = value
    return values


#: The World's queue for each topic the engine produces to (besides the write topics).
QUEUE_OF_TOPIC = {t.INBOX: "inbox", t.ROUTES: "links"}


class PickleCodecs:
    """The engine's codec interface over pickle instead of Avro and a registry."""

    def decode(self, topic: str, data: bytes) -> dict[str, Any]:
        return _decode(data)

    def encode(self, topic: str, value: dict[str, Any]) -> bytes:
        return _encode(value)


def _encode(value: dict[str, Any]) -> bytes:
    return pickle.dumps(value)


def _decode(raw: bytes) -> dict[str, Any]:
    value = pickle.loads(raw)  # noqa: S301 - bytes this test produced itself
    assert isinstance(value, dict)
    return value
