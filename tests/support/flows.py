"""Mapping changes the replay tests and the replay benchmark apply to the shipped flows."""

from __future__ import annotations

from dataclasses import replace

from streams.mapping.converters import EnumMap
from streams.mapping.flows import FLOWS
from streams.mapping.table import Flow


def normal_becomes_low() -> Flow:
    """task_project with a changed mapping: Salesforce Normal priority is now `low`."""
    flow = FLOWS["task_project"]
    row = flow.row("priority")
    assert isinstance(row.to_pms, EnumMap)
    pairs = tuple((sf, "low" if sf == "Normal" else pms) for sf, pms in row.to_pms.pairs)
    changed = replace(row, to_pms=EnumMap(pairs))
    return replace(flow, rows=tuple(changed if r is row else r for r in flow.rows))
