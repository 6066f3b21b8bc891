"""Change envelopes (Debezium's shape: op, before, after, source, ts_ms) and their source."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from foundation.wire.values import Origin, System, millis, millis_required

Op = Literal["c", "u", "d", "r"]


@dataclass(frozen=True, slots=True)
class Onboarding:
    """What `sfpms onboard` decided for a record it read and published again: link it
    (flow -> the other side's id) and/or let it create its twin in these flows although it
    existed before the sync first started (schemas/sfpms.Source.avsc, `onboarding`)."""

    run: str
    link: Mapping[str, str] = field(default_factory=dict)
    create: tuple[str, ...] = ()

    def to_avro(self) -> dict[str, Any]:
        return {"run": self.run, "link": dict(self.link), "create": list(self.create)}

    @classmethod
    def from_avro(cls, data: Mapping[str, Any]) -> Onboarding:
        return cls(
            run=str(data.get("run") or ""),
            link=dict(data.get("link") or {}),
            create=tuple(data.get("create") or ()),
        )


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
    #: Salesforce changes: per flow with a Salesforce scope condition, whether the record
    #: matched it when captured (None, or no entry: the flow takes the record)
    scope: Mapping[str, bool] | None = None
    onboarding: Onboarding | None = None

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
            "scope": dict(self.scope) if self.scope is not None else None,
            "onboarding": self.onboarding.to_avro() if self.onboarding is not None else None,
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
            scope=dict(scope) if (scope := data.get("scope")) is not None else None,
            onboarding=Onboarding.from_avro(onboarding)
            if (onboarding := data.get("onboarding")) is not None
            else None,
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
