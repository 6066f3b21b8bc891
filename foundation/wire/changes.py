"""Change envelopes (Debezium's shape: op, before, after, source, ts_ms) and their source."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from foundation.wire.values import Origin, System, millis, millis_required

Op = Literal["c", "u", "d", "r"]


@dataclass(frozen=True, slots=True)
class Source:
    """Where a change came from (schemas/sfpms.Source.avsc)."""

    system: System
    entity: str
    id: str
    version: int | None = None
    modstamp: int | None = None
    origin: Origin = "unknown"
    actor: str | None = None
    commit_ts: int | None = None
    seq: int | None = None
    snapshot: bool = False

    def to_avro(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "entity": self.entity,
            "id": self.id,
            "version": self.version,
            "modstamp": self.modstamp,
            "origin": self.origin,
            "actor": self.actor,
            "commit_ts": self.commit_ts,
            "seq": self.seq,
            "snapshot": self.snapshot,
        }

    @classmethod
    def from_avro(cls, data: Mapping[str, Any]) -> Source:
        return cls(
            system=data["system"],
            entity=data["entity"],
            id=data["id"],
            version=data.get("version"),
            modstamp=millis(data.get("modstamp")),
            origin=data.get("origin") or "unknown",
            actor=data.get("actor"),
            commit_ts=millis(data.get("commit_ts")),
            seq=data.get("seq"),
            snapshot=bool(data.get("snapshot")),
        )

    @property
    def ts(self) -> int | None:
        """When the change happened at its source: modstamp, else commit time."""
        return self.modstamp if self.modstamp is not None else self.commit_ts


@dataclass(frozen=True, slots=True)
class ChangeEnvelope:
    """One change of one record (schemas/sfpms.<system>.<Entity>Change.avsc). `before` and
    `after` are the entity records as their schema shapes them."""

    op: Op
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    source: Source
    ts_ms: int

    def to_avro(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "before": dict(self.before) if self.before is not None else None,
            "after": dict(self.after) if self.after is not None else None,
            "source": self.source.to_avro(),
            "ts_ms": self.ts_ms,
        }

    @classmethod
    def from_avro(cls, data: Mapping[str, Any]) -> ChangeEnvelope:
        return cls(
            op=data["op"],
            before=data.get("before"),
            after=data.get("after"),
            source=Source.from_avro(data["source"]),
            ts_ms=millis_required(data["ts_ms"]),
        )

    @property
    def record(self) -> Mapping[str, Any] | None:
        """The record the change is about: its last state for a delete, else the new one."""
        return self.before if self.op == "d" else self.after
