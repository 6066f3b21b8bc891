"""The core's view of a change envelope. Pure."""

from __future__ import annotations

from foundation.wire import ChangeEnvelope
from streams.core.model import Change
from streams.core.values import to_millis

#: The field holding a record's creation time, per system (for the onboarding gate).
CREATED_FIELD = {"salesforce": "CreatedDate", "custompms": "created_at"}


def change_from_envelope(envelope: ChangeEnvelope) -> Change:
    """The core's view of a change envelope: the record the change is about, and when,
    with what the capture (scope tags) and onboarding said about it."""
    source = envelope.source
    ts = source.ts
    record = envelope.record
    created = None
    if record is not None:
        created_at = record.get(CREATED_FIELD[source.system])
        created = to_millis(created_at) if not isinstance(created_at, str) else None
    return Change(
        system=source.system,
        entity=source.entity,
        id=source.id,
        op=envelope.op,
        record=record,
        ts=ts if ts is not None else envelope.ts_ms,
        origin=source.origin,
        version=source.version,
        created_ts=created,
        scope=source.scope,
        onboarding=source.onboarding,
    )
