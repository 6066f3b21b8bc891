"""What each side holds, and the writes in flight: the bookkeeping behind echo suppression.

`known` is what a side holds now, as last read by CDC or written by the sync (set when the
write is issued). A write in flight leaves the values it replaces `stale` until the side
shows the write landed: a change still carrying one of them was read before the write
landed (typically a person's edit of another field) and is not that person's edit of this
field.
"""

from __future__ import annotations

from typing import Any

from foundation.errors import SyncError
from streams.core.model import Change
from streams.core.values import Scalar, canonical

MISSING: Any = object()

#: In-flight writes remembered per field; more than this many overlapping writes of one
#: field is a hot loop, and forgetting the oldest pre-write value is then the safe side.
MAX_STALE = 4


def issue(
    known: dict[str, Scalar], stale: dict[str, list[Scalar]], patch: dict[str, Scalar]
) -> None:
    """A write of `patch` is issued: it is known now (optimistically), and the values it
    replaces are stale until the side shows the write landed."""
    for key, value in patch.items():
        before = known.get(key, MISSING)
        if before is not MISSING and before != value:
            olds = stale.setdefault(key, [])
            if before not in olds:
                olds.append(before)
                del olds[:-MAX_STALE]
        known[key] = value


def news(known: dict[str, Scalar], stale: dict[str, list[Scalar]], key: str, value: Scalar) -> bool:
    """Whether a side's `value` for `key` is news: not what is known, and not a stale read
    of a field the sync is still writing."""
    if known.get(key, MISSING) == value:
        stale.pop(key, None)  # the write landed; any other value from now on is news
        return False
    olds = stale.get(key)
    if olds is not None:
        if value in olds:
            return False
        del stale[key]  # a value nobody wrote before: the write landed and was edited over
    return True


def incoming(change: Change, name: str, value: Any, flow_label: str) -> Scalar:
    """The canonical form of an incoming field value, or a SyncError naming the record."""
    try:
        return canonical(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise SyncError(
            f"{change.entity} {change.id}: field {name} has a value the sync cannot compare "
            f"({type(value).__name__}: {exc})",
            flow=flow_label,
            record=change.id,
            field=name,
        ) from exc
