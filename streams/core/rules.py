"""The rules the core decides with: the mapping's flows, the tie-break, the replay switch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from streams.core.hub import SF, Winner
from streams.mapping.table import FieldRow, Flow


@dataclass(frozen=True)
class Rules:
    """The mapping and the conflict rule the core decides with."""

    flows: Mapping[str, Flow]
    precedence: Literal["salesforce", "custompms"] = "salesforce"
    #: Replaying history: a change no newer than what the link state already reflects is
    #: not folded in again (it would roll known state back); the record is only reconciled.
    replay: bool = False
    #: When the sync first started (epoch ms; None: no creation gate). Records created
    #: before it existed before the sync: in flows whose `existing_records` is
    #: wait_for_onboarding they create nothing until `sfpms onboard` releases them.
    existing_before: int | None = None
    #: SFPMS_CREATE_BEFORE_ONBOARDING: lift that gate for every flow.
    create_existing: bool = False
    _by_object: dict[str, tuple[Flow, ...]] = field(default_factory=dict, compare=False)
    _fields: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    _writable: dict[str, frozenset[str]] = field(default_factory=dict, compare=False)

    def for_sf_object(self, sf_object: str) -> tuple[Flow, ...]:
        cached = self._by_object.get(sf_object)
        if cached is None:
            cached = tuple(f for f in self.flows.values() if f.sf_object == sf_object)
            self._by_object[sf_object] = cached
        return cached

    def sf_fields(self, sf_object: str) -> tuple[str, ...]:
        """Salesforce fields the flows of `sf_object` carry (references are ids, not data)."""
        cached = self._fields.get(sf_object)
        if cached is None:
            fields: dict[str, None] = {}
            for flow in self.for_sf_object(sf_object):
                fields.update(
                    (row.sf_field, None)
                    for row in flow.rows
                    if row.sf_field is not None and not row.is_reference
                )
            cached = self._fields[sf_object] = tuple(fields)
        return cached

    def sf_writable(self, sf_object: str) -> frozenset[str]:
        """Salesforce fields some flow writes (read-only and one-way fields excluded)."""
        cached = self._writable.get(sf_object)
        if cached is None:
            cached = self._writable[sf_object] = frozenset(
                row.sf_field
                for flow in self.for_sf_object(sf_object)
                for row in flow.rows
                if row.writes_sf and row.sf_field is not None
            )
        return cached

    def beats(self, candidate: Winner, current: Winner | None) -> bool:
        """Last writer wins by source commit time; ties go to the precedence system."""
        if current is None or candidate.ts > current.ts:
            return True
        if candidate.ts < current.ts:
            return False
        return (candidate.source == SF) == (self.precedence == "salesforce")

    def flow_label(self, sf_object: str) -> str:
        """The flows of an sObject, for messages about a record no single flow owns yet."""
        flows = self.for_sf_object(sf_object)
        return "+".join(f.name for f in flows) if flows else sf_object

    def replayed(self) -> Rules:
        """The same rules for replaying history."""
        return Rules(
            self.flows,
            self.precedence,
            replay=True,
            existing_before=self.existing_before,
            create_existing=self.create_existing,
        )

    def predates_sync(self, created_ts: int | None) -> bool:
        """Whether a record created at `created_ts` existed before the sync first started
        (so the sync cannot have made it)."""
        if self.existing_before is None or created_ts is None:
            return False
        return created_ts < self.existing_before

    def waits_for_onboarding(
        self, flow: Flow, created_ts: int | None, released: tuple[str, ...] | list[str] = ()
    ) -> bool:
        """Whether a record created at `created_ts` may not create its twin in `flow` yet:
        it predates the sync, the flow waits for onboarding, and onboarding has not
        released it (`released` names the flows it did)."""
        if self.create_existing or flow.existing_records != "wait_for_onboarding":
            return False
        return flow.name not in released and self.predates_sync(created_ts)


def sf_row(flow: Flow, sf_field: str) -> FieldRow | None:
    """The flow's row reading or writing `sf_field` (a flow maps a field at most once)."""
    for row in flow.rows:
        if row.sf_field == sf_field:
            return row
    return None
