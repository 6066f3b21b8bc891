"""The onboarding plan of one flow: which existing records to link, create or leave (pure).

`sfpms onboard` reads both systems (through the capture code, scope included) and the link
table, then asks `plan_flow` what to do with every record:

- already linked (or being linked) by the sync: nothing;
- out of the flow's scope, or last changed by the sync's own Salesforce user (for objects
  the sync creates, such records are the sync's, as in the engine): left alone;
- the rest are keyed by the flow's match criteria (`streams.mapping.matching`). A key held
  by exactly one record on each side links the pair. A key held by several records on one
  side and at least one on the other is ambiguous: all of them are listed and left alone
  (linking one at random could pair the wrong records; resolve by hand, then run again);
- a record whose key has no partner (or that has no complete key) is created on the other
  side where the flow creates in that direction, and left alone where it does not.

The plan is deterministic (sorted by id), so a dry run and the real run agree, and a second
run over the same data finds everything linked and does nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from streams.mapping.apply import get_path, sf_to_pms
from streams.mapping.errors import ConversionError
from streams.mapping.matching import Key, match_key_pms, match_key_sf
from streams.mapping.table import Flow

System = Literal["salesforce", "custompms"]
_DETACHED = "its link was removed earlier (a delete or unlink policy); it stays unlinked"


@dataclass(frozen=True, slots=True)
class SfCandidate:
    """A Salesforce record as onboarding sees it."""

    id: str
    record: Mapping[str, Any]
    in_scope: bool = True
    linked: bool = False
    by_sync_user: bool = False
    detached: bool = False


@dataclass(frozen=True, slots=True)
class PmsCandidate:
    """A Custompms record of the flow (its constants claim it) as onboarding sees it."""

    id: str
    record: Mapping[str, Any]
    in_scope: bool = True
    routed: bool = False
    detached: bool = False


@dataclass(frozen=True, slots=True)
class Ambiguous:
    """A match key held by several records on at least one side."""

    key: Key
    sf_ids: tuple[str, ...]
    pms_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Left:
    """A record onboarding does nothing with, and why."""

    system: System
    id: str
    reason: str


@dataclass
class FlowPlan:
    """What onboarding does in one flow."""

    flow: str
    links: list[tuple[str, str]] = field(default_factory=list)
    ambiguous: list[Ambiguous] = field(default_factory=list)
    create_in_pms: list[str] = field(default_factory=list)
    create_in_sf: list[str] = field(default_factory=list)
    left: list[Left] = field(default_factory=list)
    already_linked: int = 0
    differences: dict[tuple[str, str], dict[str, dict[str, Any]]] = field(default_factory=dict)

    @property
    def left_alone(self) -> int:
        """Records left alone, the ambiguous ones included."""
        return len(self.left) + sum(len(a.sf_ids) + len(a.pms_ids) for a in self.ambiguous)

    @property
    def has_work(self) -> bool:
        return bool(self.links or self.create_in_pms or self.create_in_sf)

    def summary(self) -> dict[str, int]:
        return {
            "link": len(self.links),
            "ambiguous": len(self.ambiguous),
            "create_in_custompms": len(self.create_in_pms),
            "create_in_salesforce": len(self.create_in_sf),
            "left_alone": self.left_alone,
            "already_linked": self.already_linked,
        }


def _differences(flow: Flow, sf: SfCandidate, pms: PmsCandidate) -> dict[str, dict[str, Any]]:
    """Two-way rows whose values differ in the pair (the newer record's value wins, as for
    any match the sync links)."""
    out: dict[str, dict[str, Any]] = {}
    for row in flow.rows:
        if not (row.writes_sf and row.writes_pms) or row.sf_field is None:
            continue
        try:
            mapped = sf_to_pms(flow, {row.sf_field: sf.record.get(row.sf_field)}, record_id=sf.id)
        except ConversionError:
            continue
        ours, theirs = mapped.get(row.pms_field), get_path(pms.record, row.pms_field)
        if str(ours) != str(theirs):
            out[row.pms_field] = {"salesforce": ours, "custompms": theirs}
    return out


def plan_flow(
    flow: Flow, sf_records: Iterable[SfCandidate], pms_records: Iterable[PmsCandidate]
) -> FlowPlan:
    """The onboarding plan of `flow` (see the module docstring)."""
    plan = FlowPlan(flow.name)
    sf_by_key: dict[Key | None, list[SfCandidate]] = {}
    pms_by_key: dict[Key | None, list[PmsCandidate]] = {}
    for sf in sorted(sf_records, key=lambda c: c.id):
        if sf.linked:
            plan.already_linked += 1
        elif sf.detached:
            plan.left.append(Left("salesforce", sf.id, _DETACHED))
        elif not sf.in_scope:
            plan.left.append(Left("salesforce", sf.id, "out of the flow's Salesforce scope"))
        elif sf.by_sync_user:
            plan.left.append(Left("salesforce", sf.id, "last changed by the sync's own user"))
        else:
            sf_by_key.setdefault(match_key_sf(flow, sf.record), []).append(sf)
    for pms in sorted(pms_records, key=lambda c: c.id):
        if pms.routed:
            plan.already_linked += 1
        elif pms.detached:
            plan.left.append(Left("custompms", pms.id, _DETACHED))
        elif not pms.in_scope:
            plan.left.append(Left("custompms", pms.id, "out of the flow's Custompms scope"))
        else:
            pms_by_key.setdefault(match_key_pms(flow, pms.record), []).append(pms)
    unpaired_sf: list[SfCandidate] = list(sf_by_key.pop(None, []))
    unpaired_pms: list[PmsCandidate] = list(pms_by_key.pop(None, []))
    for key in sorted({*sf_by_key, *pms_by_key}, key=str):
        sfs, pmss = sf_by_key.get(key, []), pms_by_key.get(key, [])
        if len(sfs) == 1 and len(pmss) == 1:
            plan.links.append((sfs[0].id, pmss[0].id))
            diff = _differences(flow, sfs[0], pmss[0])
            if diff:
                plan.differences[(sfs[0].id, pmss[0].id)] = diff
        elif sfs and pmss:
            assert key is not None
            ids = (tuple(c.id for c in sfs), tuple(c.id for c in pmss))
            plan.ambiguous.append(Ambiguous(key, *ids))
        else:
            unpaired_sf += sfs
            unpaired_pms += pmss
    for sf in sorted(unpaired_sf, key=lambda c: c.id):
        if flow.create_in_pms:
            plan.create_in_pms.append(sf.id)
        else:
            plan.left.append(Left("salesforce", sf.id, "no match, and the flow creates nothing"))
    for pms in sorted(unpaired_pms, key=lambda c: c.id):
        if flow.create_in_sf:
            plan.create_in_sf.append(pms.id)
        else:
            reason = "no match, and the flow creates nothing in Salesforce"
            plan.left.append(Left("custompms", pms.id, reason))
    return plan


@dataclass
class Decided:
    """What one record's onboarding envelope says (schemas/sfpms.Source.avsc): the records
    of the other side it is paired with, per flow, and the flows it may create its twin in."""

    link: dict[str, str] = field(default_factory=dict)
    create: list[str] = field(default_factory=list)


def decisions(
    plans: Iterable[tuple[Flow, FlowPlan]],
) -> tuple[dict[str, Decided], dict[tuple[str, str], Decided]]:
    """The plans per record: Salesforce id -> its links and creations; (Custompms resource,
    id) -> the Salesforce record it is paired with and the flows it may create its twin in.

    Both records of a pair are published: the Salesforce one makes its hub claim the
    Custompms one, which the routing side keeps for that claim, so the hub learns what the
    Custompms record holds (and its version, which its writes are conditional on)."""
    sf: dict[str, Decided] = {}
    pms: dict[tuple[str, str], Decided] = {}
    for flow, plan in plans:
        for sf_id, pms_id in plan.links:
            sf.setdefault(sf_id, Decided()).link[flow.name] = pms_id
            pms.setdefault((flow.pms_resource, pms_id), Decided()).link[flow.name] = sf_id
        for sf_id in plan.create_in_pms:
            sf.setdefault(sf_id, Decided()).create.append(flow.name)
        for pms_id in plan.create_in_sf:
            pms.setdefault((flow.pms_resource, pms_id), Decided()).create.append(flow.name)
    return sf, pms


def report_lines(flow: Flow, plan: FlowPlan) -> Iterable[dict[str, Any]]:
    """One JSON-ready line per record and decision, for `sfpms onboard --out`."""
    for sf_id, pms_id in plan.links:
        line: dict[str, Any] = {
            "flow": flow.name,
            "decision": "link",
            "salesforce": sf_id,
            "custompms": pms_id,
        }
        diff = plan.differences.get((sf_id, pms_id))
        if diff:
            line["differences"] = diff
            line["reason"] = "matched; where they differ, the newer record's values win"
        else:
            line["reason"] = "matched; the two records already agree"
        yield line
    for found in plan.ambiguous:
        yield {
            "flow": flow.name,
            "decision": "ambiguous",
            "key": list(found.key),
            "salesforce": list(found.sf_ids),
            "custompms": list(found.pms_ids),
            "reason": "several records share this match key; make them unique or link by "
            "hand, then run again",
        }
    for sf_id in plan.create_in_pms:
        yield {
            "flow": flow.name,
            "decision": "create_in_custompms",
            "salesforce": sf_id,
            "reason": f"no Custompms {flow.pms_label} matches",
        }
    for pms_id in plan.create_in_sf:
        yield {
            "flow": flow.name,
            "decision": "create_in_salesforce",
            "custompms": pms_id,
            "reason": f"no Salesforce {flow.sf_object} matches",
        }
    for left in plan.left:
        yield {"flow": flow.name, "decision": "leave", left.system: left.id, "reason": left.reason}
