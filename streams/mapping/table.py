"""The shape of a mapping: a flow is a table of field rows plus its creation and delete policy.

Everything here is data. `streams.mapping.apply` applies any table; the decision core reads the
policies; `streams.mapping.validate` checks a table against the live schemas; the data-flow
document is rendered from it. Tables are checked for internal consistency when they are built,
so a wrong table fails at import with a `ConfigError`, not in the middle of a stream.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from foundation.errors import ConfigError
from streams.mapping.converters import Constant, Converter, EnumMap, LinkedId
from streams.mapping.scope import EVERYTHING, Scope

#: The Custompms data types a row may declare.
PMS_TYPES = frozenset(
    {"string", "boolean", "enum", "date", "datetime", "number", "reference", "constant"}
)


class Direction(StrEnum):
    """Which way a row carries values."""

    BOTH = "both"
    SF_TO_PMS = "sf_to_pms"
    PMS_TO_SF = "pms_to_sf"

    @property
    def writes_pms(self) -> bool:
        return self is not Direction.PMS_TO_SF

    @property
    def writes_sf(self) -> bool:
        return self is not Direction.SF_TO_PMS

    @property
    def arrow(self) -> str:
        return {"both": "<->", "sf_to_pms": "->", "pms_to_sf": "<-"}[self.value]


@dataclass(frozen=True, slots=True)
class FieldRow:
    """One property carried between a Salesforce field and a Custompms property.

    `sf_field` is None only for constant rows. `pms_field` is a dotted path into the nested
    Custompms record ("address.city") and is the row's stable `key`. `to_pms` converts a
    Salesforce value for Custompms, `to_sf` the other way; each is set exactly when the row
    writes that side. `note` says why a row is one-way or lossy; it goes into the documents.
    `where` is the row's place in the mapping file (`config/mapping.yaml:42`), for messages.
    """

    sf_field: str | None
    pms_field: str
    pms_type: str
    direction: Direction
    to_pms: Converter | None = None
    to_sf: Converter | None = None
    note: str = ""
    where: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem:
            raise ConfigError(f"mapping row {self.label}: {problem}", field=self.pms_field)

    def _problem(self) -> str | None:
        if self.pms_type not in PMS_TYPES:
            return f"unknown pms_type {self.pms_type!r}; use one of {sorted(PMS_TYPES)}"
        if self.is_constant:
            if self.sf_field is not None or self.direction is not Direction.SF_TO_PMS:
                return "a constant row has no Salesforce field and goes SF_TO_PMS only"
            if not isinstance(self.to_pms, Constant) or self.to_sf is not None:
                return "a constant row needs to_pms=Constant(...) and no to_sf"
            return None
        if self.sf_field is None:
            return "only constant rows may omit the Salesforce field"
        if self.is_reference and (
            self.direction is not Direction.SF_TO_PMS or not isinstance(self.to_pms, LinkedId)
        ):
            return "a reference row goes SF_TO_PMS with to_pms=LinkedId(...)"
        if self.direction.writes_pms != (self.to_pms is not None):
            return "to_pms must be set exactly when the row writes Custompms"
        if self.direction.writes_sf != (self.to_sf is not None):
            return "to_sf must be set exactly when the row writes Salesforce"
        if self.pms_type == "enum" and not all(
            isinstance(c, EnumMap) for c in (self.to_pms, self.to_sf) if c is not None
        ):
            return "an enum row converts with EnumMap both ways"
        return None

    @property
    def key(self) -> str:
        """Stable identity of the row within its flow: the Custompms path."""
        return self.pms_field

    @property
    def label(self) -> str:
        """`Subject <-> name`, for messages and tables."""
        return f"{self.sf_field or '(constant)'} {self.direction.arrow} {self.pms_field}"

    @property
    def is_constant(self) -> bool:
        return self.pms_type == "constant"

    @property
    def is_reference(self) -> bool:
        return self.pms_type == "reference"

    @property
    def writes_pms(self) -> bool:
        return self.direction.writes_pms

    @property
    def writes_sf(self) -> bool:
        return self.direction.writes_sf

    @property
    def lossy(self) -> bool:
        """True when a two-way value table is not a bijection (a value does not come back)."""
        if not (isinstance(self.to_pms, EnumMap) and isinstance(self.to_sf, EnumMap)):
            return False
        to_pms, to_sf = dict(self.to_pms.pairs), dict(self.to_sf.pairs)
        return any(to_sf.get(target) != source for source, target in to_pms.items()) or any(
            to_pms.get(target) != source for source, target in to_sf.items()
        )


class DeleteAction(StrEnum):
    """What happens to the linked record when one side deletes its record."""

    PROPAGATE = "propagate"  # delete the linked record too
    DEACTIVATE = "deactivate"  # write `patch` to the linked record, keep it and the link
    UNLINK = "unlink"  # forget the link, leave the linked record as it is


@dataclass(frozen=True, slots=True)
class DeleteRule:
    """One direction of a delete policy; `patch` is in the linked (target) record's terms."""

    action: DeleteAction
    patch_items: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if (self.action is DeleteAction.DEACTIVATE) != bool(self.patch_items):
            raise ConfigError(f"delete rule {self.action}: a patch is needed exactly to deactivate")

    @classmethod
    def propagate(cls) -> DeleteRule:
        return cls(DeleteAction.PROPAGATE)

    @classmethod
    def unlink(cls) -> DeleteRule:
        return cls(DeleteAction.UNLINK)

    @classmethod
    def deactivate(cls, patch: Mapping[str, Any]) -> DeleteRule:
        return cls(DeleteAction.DEACTIVATE, tuple(patch.items()))

    @property
    def patch(self) -> dict[str, Any]:
        """Fields to write on the linked record (dotted paths for Custompms)."""
        return dict(self.patch_items)

    def describe(self) -> str:
        if self.action is DeleteAction.DEACTIVATE:
            return "deactivate: " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in self.patch_items)
        return self.action.value


@dataclass(frozen=True, slots=True)
class DeletePolicy:
    """`sf_deleted` acts on the Custompms record, `pms_deleted` on the Salesforce record."""

    sf_deleted: DeleteRule
    pms_deleted: DeleteRule


@dataclass(frozen=True, slots=True)
class MatchPart:
    """One onboarding match criterion: the Salesforce field and the Custompms path compared.
    `row_key` names the row that converts the Salesforce value first (None: compared raw)."""

    sf_field: str
    pms_field: str
    row_key: str | None = None


@dataclass(frozen=True, slots=True)
class Flow:
    """One Salesforce object linked to one Custompms resource, with its rows and policies.

    - `create_in_pms` / `create_in_sf`: whether a record born on one side creates its twin on
      the other (False means it stays unlinked until onboarding matches it).
    - `match_on`: row keys whose normalised values let a create adopt an existing record
      instead (the sinks look candidates up, `streams.mapping.matching` picks one); empty
      means a create always creates.
    - `match`: the onboarding criteria (`sfpms onboard` pairs existing records by them).
    - `scope`: which records the flow takes on each side (`streams.mapping.scope`).
    - `existing_records`: what records older than the sync's first start do before
      onboarding has run: `wait_for_onboarding` (create nothing) or `create`.
    - `requires`: (reference row key, other flow name): the reference is the Custompms id
      linked by the other flow for the same Salesforce record; the write waits for it.
    - `pms_default`: the flow also takes the resource's records that no other flow claims by
      its constants (a Customer of kind "company" belongs to division_customer).
    - `notes`: operator-facing remarks rendered into the data-flow document.
    """

    name: str
    sf_object: str
    pms_resource: str
    pms_label: str
    rows: tuple[FieldRow, ...]
    create_in_pms: bool
    create_in_sf: bool
    delete_policy: DeletePolicy
    match_on: tuple[str, ...] = ()
    requires: tuple[tuple[str, str], ...] = ()
    pms_default: bool = False
    notes: tuple[str, ...] = ()
    match: tuple[MatchPart, ...] = ()
    scope: Scope = EVERYTHING
    existing_records: str = "wait_for_onboarding"
    where: str = field(default="", compare=False)
    _by_key: Mapping[str, FieldRow] = field(init=False, repr=False, compare=False)
    _to_pms: tuple[FieldRow, ...] = field(init=False, repr=False, compare=False)
    _to_sf: tuple[FieldRow, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_key = {row.key: row for row in self.rows}
        object.__setattr__(self, "_by_key", MappingProxyType(by_key))
        # computed once: the engine asks for these for every change it handles
        to_pms = tuple(r for r in self.rows if r.writes_pms and not r.is_reference)
        object.__setattr__(self, "_to_pms", to_pms)
        object.__setattr__(self, "_to_sf", tuple(r for r in self.rows if r.writes_sf))
        problems = []
        if len(by_key) != len(self.rows):
            problems.append("two rows write the same Custompms property")
        refs = {row.key for row in self.rows if row.is_reference}
        if {key for key, _ in self.requires} != refs:
            problems.append("`requires` must name every reference row, and only those")
        problems += [
            f"match_on key {k!r} is not a two-sided row"
            for k in self.match_on
            if k not in by_key or by_key[k].sf_field is None
        ]
        if self.existing_records not in ("wait_for_onboarding", "create"):
            problems.append("existing_records is wait_for_onboarding or create")
        if problems:
            raise ConfigError("; ".join(problems), flow=self.name)

    @property
    def title(self) -> str:
        """`Salesforce Task to Custompms Project`."""
        return f"Salesforce {self.sf_object} to Custompms {self.pms_label}"

    def row(self, key: str) -> FieldRow:
        """The row whose Custompms path is `key` (KeyError if none)."""
        return self._by_key[key]

    @property
    def rows_to_pms(self) -> tuple[FieldRow, ...]:
        """Rows `sf_to_pms` applies: they write Custompms; references are resolved elsewhere."""
        return self._to_pms

    @property
    def rows_to_sf(self) -> tuple[FieldRow, ...]:
        return self._to_sf

    @property
    def references(self) -> tuple[FieldRow, ...]:
        return tuple(r for r in self.rows if r.is_reference)

    @property
    def constants(self) -> dict[str, Any]:
        """Custompms path -> constant value, e.g. {"kind": "division"}."""
        return {r.pms_field: r.to_pms(None) for r in self.rows if r.is_constant and r.to_pms}

    @property
    def sf_fields(self) -> tuple[str, ...]:
        """The Salesforce fields the flow reads or writes, in table order (for queries)."""
        return tuple(dict.fromkeys(r.sf_field for r in self.rows if r.sf_field))
