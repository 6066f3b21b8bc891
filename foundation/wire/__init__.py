"""The wire contracts: typed records for everything that crosses a topic.

Each record mirrors one schema in `schemas/` (tests check every field against the .avsc)
and converts with `to_avro()` / `from_avro()`; timestamps are epoch milliseconds inside.
The dead letter lives with its bounded builder in foundation/deadletters.py (`to_record`).
Producers build these records and consumers read them; nobody indexes raw dicts.
"""

from foundation.deadletters import DeadLetter
from foundation.wire.changes import ChangeEnvelope, Source
from foundation.wire.links import LinkEvent
from foundation.wire.writes import OpOutcome, WriteCommand, WriteOp, WriteResult

__all__ = [
    "ChangeEnvelope",
    "DeadLetter",
    "LinkEvent",
    "OpOutcome",
    "Source",
    "WriteCommand",
    "WriteOp",
    "WriteResult",
]
