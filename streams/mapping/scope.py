"""Which records a flow takes, on each side (pure).

- Salesforce: a SOQL condition (`Type = 'Project'`, `RecordType.DeveloperName = 'X'`,
  `CreatedDate >= 2025-01-01T00:00:00Z`). Salesforce evaluates it: the capture asks, per
  page of changed records, which of them match (`connectors/cdc/scope.py`) and tags each
  change envelope, so the condition is real SOQL with Salesforce's semantics, and a record
  that leaves the scope is still seen (its envelope says "out of scope").
- Custompms: a property filter, evaluated here on the record: every listed path must hold
  the given value, or one of the listed values (`{"kind": "client", "status": [a, b]}`).

A linked record that leaves its flow's scope keeps its link (`keep`, it goes on syncing)
or is unlinked (`unlink`: the link is removed, both records stay as they are, and the
record creates nothing again until it is back in scope and onboarded or edited in).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

LeavePolicy = Literal["keep", "unlink"]
FilterScalar = None | bool | int | float | str


def _get(record: Mapping[str, Any], dotted: str) -> Any:
    node: Any = record
    for part in dotted.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _same(value: Any, wanted: FilterScalar) -> bool:
    # bool is an int in Python: True must not equal 1 in a filter
    if isinstance(value, bool) or isinstance(wanted, bool):
        return isinstance(value, bool) and isinstance(wanted, bool) and value is wanted
    return bool(value == wanted)


@dataclass(frozen=True, slots=True)
class Scope:
    """A flow's scope: `sf_condition` (SOQL, None = every record), `pms_filter` (path and
    the values it may hold; empty = every record) and the leave-scope policy."""

    sf_condition: str | None = None
    pms_filter: tuple[tuple[str, tuple[FilterScalar, ...]], ...] = ()
    when_leaving: LeavePolicy = "keep"
    #: file:line of the flow's `scope` in the mapping file, for messages
    where: str = field(default="", compare=False)

    @property
    def limits_salesforce(self) -> bool:
        return self.sf_condition is not None

    @property
    def limits_custompms(self) -> bool:
        return bool(self.pms_filter)

    def pms_matches(self, record: Mapping[str, Any]) -> bool:
        """True when the Custompms record passes every part of the filter."""
        for path, allowed in self.pms_filter:
            value = _get(record, path)
            if not any(_same(value, wanted) for wanted in allowed):
                return False
        return True

    def describe_pms(self) -> str:
        parts = []
        for path, allowed in self.pms_filter:
            shown = " or ".join(repr(v) for v in allowed)
            parts.append(f"{path} is {shown}")
        return " and ".join(parts)


EVERYTHING = Scope()


def in_sf_scope(tags: Mapping[str, bool] | None, flow: str) -> bool:
    """Whether a change's capture tags put its record in `flow`'s Salesforce scope.

    A flow without a tag was not limited when the record was captured (no condition, or an
    older producer): it takes the record.
    """
    if not tags:
        return True
    return tags.get(flow, True)
