"""The core's view of a change envelope. Pure."""

from __future__ import annotations

from foundation.wire import ChangeEnvelope
from streams.core.model import Change


def change_from_envelope(envelope: ChangeEnvelope) -> Change:
    """The core's view of a change envelope: the record the change is about, and when."""
    source = envelope.source
    ts = source.ts
    return Change(
        system=source.system,
        entity=source.entity,
        id=source.id,
        op=envelope.op,
        record=envelope.record,
        ts=ts if ts is not None else envelope.ts_ms,
        origin=source.origin,
        version=source.version,
    )
