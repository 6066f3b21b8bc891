"""What changed between two mappings, row by row (`sfpms mapping diff OLD NEW`). Pure.

Rows are compared by their key (the Custompms property) within a flow of the same name;
a row is changed when its Salesforce field, type, direction, converters or note differ.
Flow policies (creation, deletes, match, scope) are compared as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from streams.mapping.export import flow_as_dict, row_as_dict
from streams.mapping.table import Flow

Kind = Literal["added", "removed", "changed"]
_ROW_FIELDS = ("sf_field", "pms_type", "direction", "to_pms", "to_sf", "note")


@dataclass(frozen=True, slots=True)
class Change:
    """One difference: a flow, a row (its label) or a policy added, removed or changed."""

    kind: Kind
    flow: str
    what: str
    before: Any = None
    after: Any = None

    def text(self) -> str:
        mark = {"added": "+", "removed": "-", "changed": "~"}[self.kind]
        if self.kind == "changed":
            return f"{mark} {self.flow}: {self.what}: {_show(self.before)} -> {_show(self.after)}"
        return f"{mark} {self.flow}: {self.what}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "flow": self.flow,
            "what": self.what,
            "before": self.before,
            "after": self.after,
        }


def _show(value: Any) -> str:
    return "(none)" if value is None or value == "" else repr(value)


def _label(row: Mapping[str, Any]) -> str:
    arrows = {"both": "<->", "sf_to_pms": "->", "pms_to_sf": "<-"}
    return f"row {row['sf_field'] or '(constant)'} {arrows[row['direction']]} {row['pms_field']}"


def diff_mappings(old: Mapping[str, Flow], new: Mapping[str, Flow]) -> list[Change]:
    """Every difference from `old` to `new`, flows in `new`'s order then removed ones."""
    changes: list[Change] = []
    for name, flow in new.items():
        if name not in old:
            changes.append(Change("added", name, f"flow ({flow.title})"))
            continue
        changes += _diff_flow(old[name], flow)
    changes += [Change("removed", name, "flow") for name in old if name not in new]
    return changes


def _diff_flow(old: Flow, new: Flow) -> list[Change]:
    changes: list[Change] = []
    before = {row.key: row_as_dict(row) for row in old.rows}
    after = {row.key: row_as_dict(row) for row in new.rows}
    for key, row in after.items():
        if key not in before:
            changes.append(Change("added", new.name, f"{_label(row)} ({row['pms_type']})"))
            continue
        for name in _ROW_FIELDS:
            old_value, new_value = before[key][name], row[name]
            if old_value != new_value:
                what = f"{_label(row)} {name}"
                changes.append(Change("changed", new.name, what, old_value, new_value))
    changes += [
        Change("removed", new.name, _label(row)) for key, row in before.items() if key not in after
    ]
    old_policies, new_policies = flow_as_dict(old)["policies"], flow_as_dict(new)["policies"]
    for name, value in new_policies.items():
        if old_policies.get(name) != value:
            changes.append(Change("changed", new.name, name, old_policies.get(name), value))
    for name in ("sf_object", "pms_resource"):
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            changes.append(Change("changed", new.name, name, a, b))
    return changes
