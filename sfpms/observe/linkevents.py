"""What one record on a topic says about a link, in words: the events of a link's history.

Pure: each function takes a decoded topic record (Avro dict) and returns an `Event` with a
one-line summary for people ("Salesforce Task updated by alice: Status Open -> Done") and
the figures behind it. `sfpms links history` and the dashboard's link page show these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SYSTEM_NAMES = {"salesforce": "Salesforce", "custompms": "Custompms"}
OPS = {"c": "created", "u": "updated", "d": "deleted", "r": "read (snapshot)"}
#: Fields every record carries that say nothing about what changed.
NOISE = {"SystemModstamp", "LastModifiedDate", "LastModifiedById", "updated_at", "version"}


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened to the link, at `at_ms`, read from `topic`@partition:offset."""

    at_ms: int
    kind: str  # change | write | result | dead_letter
    system: str
    summary: str
    topic: str
    partition: int
    offset: int
    detail: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "at_ms": self.at_ms,
            "at": _iso(self.at_ms),
            "kind": self.kind,
            "system": self.system,
            "summary": self.summary,
            "where": f"{self.topic}@{self.partition}:{self.offset}",
            "detail": dict(self.detail),
        }


def millis(value: Any) -> int:
    """Epoch milliseconds of an Avro timestamp (datetime or int), 0 when absent."""
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    return int(value or 0)


def _iso(ms: int) -> str:
    from datetime import UTC

    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds") if ms else ""


def _show(value: Any) -> str:
    text = "∅" if value is None else str(value)
    return text if len(text) <= 40 else text[:37] + "…"


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict:
    """field -> [old, new] for the fields that differ (noise fields left out)."""
    before, after = before or {}, after or {}
    return {
        name: [before.get(name), after.get(name)]
        for name in sorted(set(before) | set(after))
        if name not in NOISE and before.get(name) != after.get(name)
    }


def who(source: Mapping[str, Any]) -> str:
    """ "the sync" for its own writes (echoes), else the actor CDC saw, else "a person"."""
    if source.get("origin") == "sync":
        return "the sync"
    return str(source.get("actor") or ("a person" if source.get("origin") == "person" else "?"))


def change_event(topic: str, partition: int, offset: int, envelope: Mapping[str, Any]) -> Event:
    source = envelope["source"]
    op = envelope["op"]
    fields = changed_fields(envelope.get("before"), envelope.get("after"))
    if op == "d":
        fields = {}
    elif envelope.get("before") is None:
        # Change feeds and polls carry no "before": list the values the change brought.
        fields = {k: [None, v] for k, v in (envelope.get("after") or {}).items() if k not in NOISE}
    shown = ", ".join(f"{k} {_show(old)} → {_show(new)}" for k, (old, new) in fields.items())
    if envelope.get("before") is None and fields:
        shown = ", ".join(f"{k}={_show(new)}" for k, (_old, new) in fields.items())
    entity = str(source["entity"])
    system = str(source["system"])
    at = (
        millis(source.get("modstamp"))
        or millis(source.get("commit_ts"))
        or millis(envelope["ts_ms"])
    )
    name = SYSTEM_NAMES.get(system, system)
    summary = f"{name} {entity} {source['id']} {OPS.get(op, op)} by {who(source)}"
    return Event(
        at,
        "change",
        system,
        summary + (f": {shown}" if shown else ""),
        topic,
        partition,
        offset,
        {
            "op": op,
            "id": source["id"],
            "origin": source.get("origin"),
            "actor": source.get("actor"),
            "fields": fields,
        },
    )


def _cause(cause: Mapping[str, Any] | None) -> str:
    if not cause:
        return ""
    system = SYSTEM_NAMES.get(str(cause.get("system")), cause.get("system"))
    return f" (because of {system} {cause.get('entity')} {cause.get('id')} by {who(cause)})"


def parts(record: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """The ops of a WriteCommand (`key="ops"`) or outcomes of a WriteResult ("outcomes"),
    each with the record's own fields as defaults; a single-op record is its own one part.
    (Commands are becoming multi-op: docs/architecture.md; both shapes read the same.)"""
    nested = record.get(key)
    if not nested:
        return [record]
    return [{**record, **part} for part in nested]


def targets(record: Mapping[str, Any]) -> set[str]:
    """Every target id a command or result names (across its ops or outcomes)."""
    found = set()
    for part in [*parts(record, "ops"), *parts(record, "outcomes")]:
        for name in ("target_id", "external_id"):
            if part.get(name):
                found.add(str(part[name]))
    return found


def _write_words(op: Mapping[str, Any]) -> str:
    system = str(op["system"])
    target = op.get("target_id") or op.get("external_id") or "a new record"
    fields = dict(op.get("fields") or {})
    shown = ", ".join(f"{k}={_show(v)}" for k, v in sorted(fields.items()))
    return f"{op['action']} {SYSTEM_NAMES.get(system, system)} {op['entity']} {target}" + (
        f" set {shown}" if shown else ""
    )


def write_event(topic: str, partition: int, offset: int, command: Mapping[str, Any]) -> Event:
    ops = parts(command, "ops")
    summary = ("write issued: " + "; then ".join(_write_words(op) for op in ops)) + _cause(
        command.get("cause")
    )
    return Event(
        millis(command["issued_at"]),
        "write",
        str(command["system"]),
        summary,
        topic,
        partition,
        offset,
        {
            "command_id": command["command_id"],
            "flow": ops[0].get("flow"),
            "action": ops[0].get("action"),
            "target_id": ops[0].get("target_id"),
            "fields": dict(ops[0].get("fields") or {}),
            "if_match": ops[0].get("if_match"),
            "ops": len(ops),
        },
    )


RESULT_WORDS = {
    "ok": "applied",
    "failed": "FAILED",
    "rejected": "rejected (the target is linked to another record)",
    "conflict": "skipped: someone changed the target after the decision; decided again",
}


def _result_words(result: Mapping[str, Any]) -> str:
    system = str(result["system"])
    outcome = str(result["outcome"])
    text = (
        f"write {RESULT_WORDS.get(outcome, outcome)}: {result['action']} "
        f"{SYSTEM_NAMES.get(system, system)} {result['entity']} {result.get('target_id') or '?'}"
    )
    if result.get("created"):
        text += " (created)"
    if result.get("error"):
        text += f": {result['error']}"
    return text


def result_event(topic: str, partition: int, offset: int, result: Mapping[str, Any]) -> Event:
    outcomes = parts(result, "outcomes")
    first = outcomes[0]
    return Event(
        millis(result["acked_at"]),
        "result",
        str(result["system"]),
        "; ".join(_result_words(o) for o in outcomes),
        topic,
        partition,
        offset,
        {
            "command_id": result["command_id"],
            "outcome": first.get("outcome"),
            "target_id": first.get("target_id"),
            "error": first.get("error"),
            "written": dict(first.get("written") or {}),
            "outcomes": [o.get("outcome") for o in outcomes],
        },
    )


def dead_letter_event(topic: str, partition: int, offset: int, letter: Mapping[str, Any]) -> Event:
    where = f" field {letter['field']}" if letter.get("field") else ""
    summary = (
        f"dead letter at the {letter['stage']} stage{where}: {letter['reason']} "
        f"(`sfpms dlq show {partition}:{offset}`)"
    )
    return Event(
        millis(letter["failed_at"]),
        "dead_letter",
        str(letter["stage"]),
        summary,
        topic,
        partition,
        offset,
        {
            "error_class": letter["error_class"],
            "reason": letter["reason"],
            "field": letter.get("field"),
            "flow": letter.get("flow"),
            "id": f"{partition}:{offset}",
        },
    )
