"""Write commands and their results: what the engine asks a sink to do, and what it did."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from foundation.wire.changes import Source
from foundation.wire.values import Action, Scalar, System, millis, millis_required

OpStatus = Literal["ok", "failed", "conflict", "gone"]

#: Prefix of the link key of a Custompms record whose Salesforce twin does not exist yet.
PMS_LINK_PREFIX = "pms:"


@dataclass(frozen=True, slots=True)
class WriteOp:
    """One write to one target record (schemas/sfpms.WriteOp.avsc)."""

    flow: str
    entity: str
    action: Action
    target_id: str | None = None
    external_id_field: str | None = None
    external_id: str | None = None
    idempotency_key: str | None = None
    if_match: int | None = None
    fields: Mapping[str, Scalar] = field(default_factory=dict)
    match: Mapping[str, str] = field(default_factory=dict)
    refs: Mapping[str, int] = field(default_factory=dict)

    def to_avro(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "entity": self.entity,
            "action": self.action,
            "target_id": self.target_id,
            "external_id_field": self.external_id_field,
            "external_id": self.external_id,
            "idempotency_key": self.idempotency_key,
            "if_match": self.if_match,
            "fields": dict(self.fields),
            "match": dict(self.match),
            "refs": dict(self.refs),
        }

    @classmethod
    def from_avro(cls, data: Mapping[str, Any]) -> WriteOp:
        return cls(
            flow=data["flow"],
            entity=data["entity"],
            action=data["action"],
            target_id=data.get("target_id"),
            external_id_field=data.get("external_id_field"),
            external_id=data.get("external_id"),
            idempotency_key=data.get("idempotency_key"),
            if_match=data.get("if_match"),
            fields=dict(data.get("fields") or {}),
            match=dict(data.get("match") or {}),
            refs=dict(data.get("refs") or {}),
        )


@dataclass(frozen=True, slots=True)
class WriteCommand:
    """Writes for one link to one system, applied in order (schemas/sfpms.WriteCommand.avsc)."""

    command_id: str
    link_key: str
    system: System
    ops: tuple[WriteOp, ...]
    issued_at: int
    cause: Source | None = None

    def to_avro(self) -> dict[str, Any]:
        return {
            "command_id": self.command_id,
            "link_key": self.link_key,
            "system": self.system,
            "ops": [op.to_avro() for op in self.ops],
            "cause": self.cause.to_avro() if self.cause is not None else None,
            "issued_at": self.issued_at,
        }

    @classmethod
    def from_avro(cls, data: Mapping[str, Any]) -> WriteCommand:
        cause = data.get("cause")
        return cls(
            command_id=data["command_id"],
            link_key=data["link_key"],
            system=data["system"],
            ops=tuple(WriteOp.from_avro(op) for op in data["ops"]),
            issued_at=millis_required(data["issued_at"]),
            cause=Source.from_avro(cause) if cause is not None else None,
        )


@dataclass(frozen=True, slots=True)
class OpOutcome:
    """What a sink did with one op (schemas/sfpms.OpOutcome.avsc)."""

    flow: str
    entity: str
    action: Action
    outcome: OpStatus
    target_id: str | None = None
    created: bool = False
    matched: bool = False
    version: int | None = None
    written: Mapping[str, Scalar] = field(default_factory=dict)
    record: Mapping[str, Scalar] | None = None
    target_modstamp: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    @property
    def conflict(self) -> bool:
        return self.outcome == "conflict"

    def to_avro(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "entity": self.entity,
            "action": self.action,
            "outcome": self.outcome,
            "target_id": self.target_id,
            "created": self.created,
            "matched": self.matched,
            "version": self.version,
            "written": dict(self.written),
            "record": dict(self.record) if self.record is not None else None,
            "target_modstamp": self.target_modstamp,
            "error": self.error,
        }

    @classmethod
    def from_avro(cls, data: Mapping[str, Any]) -> OpOutcome:
        record = data.get("record")
        return cls(
            flow=data["flow"],
            entity=data["entity"],
            action=data["action"],
            outcome=data["outcome"],
            target_id=data.get("target_id"),
            created=bool(data.get("created")),
            matched=bool(data.get("matched")),
            version=data.get("version"),
            written=dict(data.get("written") or {}),
            record=dict(record) if record is not None else None,
            target_modstamp=millis(data.get("target_modstamp")),
            error=data.get("error"),
        )


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a sink did with a command, one outcome per op (schemas/sfpms.WriteResult.avsc)."""

    command_id: str
    link_key: str
    system: System
    outcomes: tuple[OpOutcome, ...]
    acked_at: int
    cause: Source | None = None

    @property
    def hub_key(self) -> str:
        """The hub this result belongs to, and its Kafka key: the link key, except for the
        upsert of a Custompms record's new Salesforce twin, whose hub is keyed by the id the
        upsert gave it (a failed upsert has none and keeps its `pms:` link key)."""
        if self.link_key.startswith(PMS_LINK_PREFIX):
            for outcome in self.outcomes:
                if outcome.action == "upsert" and outcome.target_id:
                    return outcome.target_id
        return self.link_key

    @property
    def external_id(self) -> str | None:
        """The Custompms id a `pms:` link key names."""
        if self.link_key.startswith(PMS_LINK_PREFIX):
            return self.link_key[len(PMS_LINK_PREFIX) :]
        return None

    def to_avro(self) -> dict[str, Any]:
        return {
            "command_id": self.command_id,
            "link_key": self.link_key,
            "system": self.system,
            "outcomes": [outcome.to_avro() for outcome in self.outcomes],
            "cause": self.cause.to_avro() if self.cause is not None else None,
            "acked_at": self.acked_at,
        }

    @classmethod
    def from_avro(cls, data: Mapping[str, Any]) -> WriteResult:
        cause = data.get("cause")
        return cls(
            command_id=data["command_id"],
            link_key=data["link_key"],
            system=data["system"],
            outcomes=tuple(OpOutcome.from_avro(o) for o in data["outcomes"]),
            acked_at=millis_required(data["acked_at"]),
            cause=Source.from_avro(cause) if cause is not None else None,
        )
