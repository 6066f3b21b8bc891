"""A batch of Change Data Capture events -> what to read and what to publish. Pure.

Change events carry only the fields a change touched, and the engine folds whole records
(a field missing from `after` would read as set to null). So the capture reads each
touched record once per batch (`records_soql`/`collections_retrieve`, see
`connectors/cdc/pubsub_source.py`) and publishes that full state, with the op and origin
the batch's events say:

- op: `d` when the record read is deleted or gone; `c` when a CREATE/UNDELETE (or its gap
  form) is among the record's events; otherwise `u`.
- origin: `sync` only when every event of the record in the batch names the sync's client
  in changeOrigin *and* the state read is not newer than the last of them (a newer
  SystemModstamp means someone changed it again after those events: that state may carry a
  person's edit); `person` when any event is a person's; `unknown` for gap events (they
  carry no origin) and for states newer than every event.
- GAP_OVERFLOW names no records (its id is a placeholder): the capture reconciles the
  entity from that commit's time instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.cdc.changes import Op, pubsub_origin
from connectors.salesforce.formats import soql_quote
from connectors.salesforce.pubsub import ChangeEvent, KeepAlive
from foundation.wire.values import Origin

#: The placeholder record id of GAP_OVERFLOW events.
OVERFLOW_RECORD_ID = "000000000000000AAA"
_CREATES = frozenset({"CREATE", "UNDELETE", "GAP_CREATE", "GAP_UNDELETE"})


@dataclass(slots=True)
class Touched:
    """What the events of one batch say about one record."""

    record_id: str
    change_types: list[str] = field(default_factory=list)
    origins: list[Origin] = field(default_factory=list)
    last_commit: datetime | None = None

    def note(self, change_type: str, origin: Origin, commit: datetime) -> None:
        self.change_types.append(change_type)
        self.origins.append(origin)
        if self.last_commit is None or commit > self.last_commit:
            self.last_commit = commit


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """The records a batch touched (first-seen order), overflows, and where it ends."""

    touched: tuple[Touched, ...]
    overflow_since: datetime | None
    replay_id: bytes | None
    newest_commit: datetime | None
    events: int


def event_origin(event: ChangeEvent, sync_client: str) -> Origin:
    if event.header.is_gap:
        return "unknown"
    return pubsub_origin(event.header.client_name, sync_client)


def plan_batch(items: Sequence[ChangeEvent | KeepAlive], sync_client: str) -> BatchPlan:
    """Group a batch's events by record; the replay id to store once it is published."""
    touched: dict[str, Touched] = {}
    overflow: datetime | None = None
    newest: datetime | None = None
    replay: bytes | None = None
    events = 0
    for item in items:
        if isinstance(item, KeepAlive):
            replay = item.latest_replay_id or replay
            continue
        events += 1
        replay = item.replay_id
        header = item.header
        commit = header.commit_timestamp
        newest = commit if newest is None or commit > newest else newest
        if header.change_type == "GAP_OVERFLOW":
            overflow = commit if overflow is None or commit < overflow else overflow
            continue
        origin = event_origin(item, sync_client)
        for record_id in header.record_ids:
            if record_id == OVERFLOW_RECORD_ID:
                continue
            entry = touched.setdefault(record_id, Touched(record_id))
            entry.note(header.change_type, origin, commit)
    return BatchPlan(tuple(touched.values()), overflow, replay, newest, events)


def record_op(touched: Touched, record: Mapping[str, Any] | None) -> Op:
    """The envelope op for a record read after its events (None: the record is gone)."""
    if record is None or record.get("IsDeleted") is True:
        return "d"
    if any(kind in _CREATES for kind in touched.change_types):
        return "c"
    return "u"


def record_origin(touched: Touched, modstamp: datetime | None) -> Origin:
    """Whose change the state read shows (see the module docstring)."""
    if "person" in touched.origins:
        return "person"
    newer = (
        modstamp is not None and touched.last_commit is not None and modstamp > touched.last_commit
    )
    if touched.origins and not newer and all(o == "sync" for o in touched.origins):
        return "sync"
    return "unknown"


def records_soql(sobject: str, fields: Iterable[str], ids: Sequence[str]) -> str:
    """Full state of `ids` (for queryAll, so deleted records come too)."""
    quoted = ", ".join(soql_quote(record_id) for record_id in ids)
    # Object and field names come from the entity schema; ids are quoted.
    return f"SELECT {', '.join(fields)} FROM {sobject} WHERE Id IN ({quoted})"  # noqa: S608


def short_id(record_id: str) -> str:
    """Salesforce ids compare on their case-sensitive 15-character form."""
    return record_id[:15]
