"""The link state of one Salesforce record and the Custompms records linked to it.

Every link has exactly one Salesforce record, so the Salesforce id is the key ("link key")
of a `Hub`: one entry holds the Salesforce side, each linked Custompms record (one per
flow), and per Salesforce field the winning value with its provenance.

- `sf_known` / `PmsLink.known`: what each side holds now, as last read by CDC or written by
  the sync (optimistically, when the write is issued). Echo suppression compares with it.
- `sf_stale` / `PmsLink.stale`: per field with a sync write in flight, the values it held
  before that write. A change still carrying one of them was read before the write landed
  (typically a person's edit of another field), so it is not that person's edit of this
  field. Cleared as soon as the side shows the written value or any other value.
- `PmsLink.landed`: per stale field, the Custompms version its write landed at (from the
  sink's answer). Capture never publishes the sync's own Custompms changes, so no echo
  clears those stale values; a change at that version or newer was read after the write,
  and its values are news even where they equal a stale one.
- `winners`: per Salesforce field, which side last changed it by a person's edit, when, and
  to what (in that side's own terms). Desired states are derived from winners only, so an
  echo of the sync's own write can never win, and a lossy row never rewrites its source.

Serialised compactly (short keys) because the link table holds one entry per link.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from streams.core.values import Scalar

LinkState = Literal["pending", "claimed", "linked", "detached"]
SF = "sf"


@dataclass(slots=True)
class Winner:
    """The last person's edit of one field: `source` is "sf" or the flow whose Custompms
    record it came from; `value` is in that side's terms."""

    source: str
    ts: int
    value: Scalar


@dataclass(slots=True)
class PmsLink:
    """One Custompms record linked (or being linked) to the hub's Salesforce record."""

    flow: str
    state: LinkState
    pms_id: str | None = None
    known: dict[str, Scalar] = field(default_factory=dict)
    version: int | None = None
    modstamp: int | None = None
    since: int | None = None
    born_in: str = "salesforce"
    stale: dict[str, list[Scalar]] = field(default_factory=dict)
    landed: dict[str, int] = field(default_factory=dict)
    #: taken back from a match claim: another hub may have written to the record, and the
    #: sync's own Custompms changes never come back through capture, so what it holds is
    #: learned from the next write's answer (docs/faults.md Found 16)
    retaken: bool = False


@dataclass(slots=True)
class Hub:
    """Link state keyed by a Salesforce id."""

    sf_id: str
    sf_object: str
    sf_known: dict[str, Scalar] = field(default_factory=dict)
    sf_modstamp: int | None = None
    born_by_sync: bool = False
    deleted: bool = False
    winners: dict[str, Winner] = field(default_factory=dict)
    links: dict[str, PmsLink] = field(default_factory=dict)
    create_attempts: dict[str, int] = field(default_factory=dict)
    no_match: list[str] = field(default_factory=list)
    sf_stale: dict[str, list[Scalar]] = field(default_factory=dict)
    #: when the Salesforce record was created (epoch ms), for the onboarding gate
    created_ts: int | None = None
    #: flows onboarding released: the record may create its twin there
    released: list[str] = field(default_factory=list)
    #: flows whose Salesforce scope the record is out of (as last captured)
    out_of_scope: list[str] = field(default_factory=list)

    def linked(self, flow: str) -> PmsLink | None:
        """The flow's link if it is established."""
        link = self.links.get(flow)
        return link if link is not None and link.state == "linked" else None

    # -- serialisation ----------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"i": self.sf_id, "o": self.sf_object, "s": self.sf_known}
        if self.sf_modstamp is not None:
            data["m"] = self.sf_modstamp
        if self.born_by_sync:
            data["b"] = 1
        if self.deleted:
            data["d"] = 1
        if self.winners:
            data["w"] = {k: [w.source, w.ts, w.value] for k, w in self.winners.items()}
        if self.links:
            data["l"] = {name: _link_to_json(link) for name, link in self.links.items()}
        if self.create_attempts:
            data["a"] = self.create_attempts
        if self.no_match:
            data["n"] = self.no_match
        if self.sf_stale:
            data["x"] = self.sf_stale
        if self.created_ts is not None:
            data["c"] = self.created_ts
        if self.released:
            data["r"] = self.released
        if self.out_of_scope:
            data["os"] = self.out_of_scope
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Hub:
        return cls(
            sf_id=data["i"],
            sf_object=data["o"],
            sf_known=dict(data.get("s", {})),
            sf_modstamp=data.get("m"),
            born_by_sync=bool(data.get("b")),
            deleted=bool(data.get("d")),
            winners={k: Winner(w[0], w[1], w[2]) for k, w in data.get("w", {}).items()},
            links={name: _link_from_json(name, raw) for name, raw in data.get("l", {}).items()},
            create_attempts=dict(data.get("a", {})),
            no_match=list(data.get("n", [])),
            sf_stale={k: list(v) for k, v in data.get("x", {}).items()},
            created_ts=data.get("c"),
            released=list(data.get("r", [])),
            out_of_scope=list(data.get("os", [])),
        )


def _link_to_json(link: PmsLink) -> dict[str, Any]:
    data: dict[str, Any] = {"st": link.state, "k": link.known, "bi": link.born_in}
    for key, value in (
        ("id", link.pms_id),
        ("v", link.version),
        ("m", link.modstamp),
        ("t", link.since),
    ):
        if value is not None:
            data[key] = value
    if link.stale:
        data["x"] = link.stale
    if link.landed:
        data["lv"] = link.landed
    if link.retaken:
        data["rt"] = 1
    return data


def _link_from_json(flow: str, data: dict[str, Any]) -> PmsLink:
    return PmsLink(
        flow=flow,
        state=data["st"],
        pms_id=data.get("id"),
        known=dict(data.get("k", {})),
        version=data.get("v"),
        modstamp=data.get("m"),
        since=data.get("t"),
        born_in=data.get("bi", "salesforce"),
        stale={k: list(v) for k, v in data.get("x", {}).items()},
        landed=dict(data.get("lv", {})),
        retaken=bool(data.get("rt")),
    )
