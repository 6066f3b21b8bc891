"""Pairing records that exist on both sides by normalised values (pure).

Two uses, one rule:
- onboarding (`sfpms onboard`, `streams.mapping.onboarding`) pairs existing records by a
  flow's match criteria (`Flow.match`: Subject + ActivityDate, a name, an id field);
- a create that may adopt an existing record (`Flow.match_on`, the Customer flows): the sink
  fetches the candidates and `pick` chooses, so the decision is made here, not in the sink.

Values compare in a normal form (`match_value`): text is NFKC, casefolded, without
punctuation and with single spaces (`Acme, Inc.` is `acme inc`); dates and date-times are
ISO text first, so `2026-12-01` from either side compares equal. A record whose key cannot
be built (a part empty, or a value the row cannot convert) matches nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from streams.mapping.apply import get_path
from streams.mapping.errors import ConversionError
from streams.mapping.table import Flow, MatchPart

_SPACES = re.compile(r"\s+")
#: Dashes and connectors separate words ("Acme-Corp" is "Acme Corp"); other punctuation is
#: dropped ("Acme, Inc." is "Acme Inc", "O'Brien" is "OBrien").
_SEPARATOR_CATEGORIES = frozenset({"Pd", "Pc"})

Key = tuple[str, ...]


def normalise_name(value: str) -> str:
    """Compare-ready form of a name: NFKC, casefolded, punctuation stripped, spaces collapsed."""
    text = unicodedata.normalize("NFKC", value).casefold()
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in _SEPARATOR_CATEGORIES:
            kept.append(" ")
        elif not category.startswith("P"):
            kept.append(char)
    return _SPACES.sub(" ", "".join(kept)).strip()


def match_value(value: Any) -> str | None:
    """The normal form of one match value; None when it is empty (it cannot match)."""
    if value is None or isinstance(value, Mapping | list):
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, dt.datetime):
        utc = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
        text = utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    elif isinstance(value, dt.date):
        text = value.isoformat()
    else:
        text = str(value)
    normal = normalise_name(text)
    return normal or None


def criteria(flow: Flow) -> tuple[MatchPart, ...]:
    """The flow's onboarding criteria, or its create-time match keys when it has none."""
    if flow.match:
        return flow.match
    return tuple(MatchPart(flow.row(k).sf_field or "", k, k) for k in flow.match_on)


def _sf_part(flow: Flow, part: MatchPart, sf_record: Mapping[str, Any]) -> Any:
    value = sf_record.get(part.sf_field)
    if part.row_key is None:
        return value
    try:
        row = flow.row(part.row_key)
    except KeyError:
        return value
    if row.to_pms is None:
        return value
    try:
        return row.to_pms(value)
    except ConversionError:
        return None


def _complete(parts: Iterable[str | None]) -> Key | None:
    values = tuple(parts)
    if not values or any(v is None for v in values):
        return None
    return tuple(v for v in values if v is not None)


def match_key_sf(flow: Flow, sf_record: Mapping[str, Any]) -> Key | None:
    """The match key of a Salesforce record, in Custompms terms; None if it cannot match."""
    return _complete(match_value(_sf_part(flow, p, sf_record)) for p in criteria(flow))


def match_key_pms(flow: Flow, pms_record: Mapping[str, Any]) -> Key | None:
    """The match key of a Custompms record; None if it cannot match."""
    return _complete(match_value(get_path(pms_record, p.pms_field)) for p in criteria(flow))


# -- a create adopting an existing record ---------------------------------------------------


def wanted_key(wanted: Mapping[str, Any]) -> tuple[tuple[str, ...], Key | None]:
    """(the fields, their normal values) of a command's `match` map, in a stable order."""
    fields = tuple(sorted(wanted))
    return fields, _complete(match_value(wanted[f]) for f in fields)


def record_key(
    record: Mapping[str, Any], fields: Sequence[str], value_of: Callable[[Any, str], Any]
) -> Key | None:
    """The normal values of `fields` of a candidate record (`value_of(record, field)`)."""
    return _complete(match_value(value_of(record, f)) for f in fields)


class CandidateIndex:
    """Candidate records by their normal key over `fields`, built once per batch."""

    def __init__(
        self,
        candidates: Iterable[Mapping[str, Any]],
        fields: Sequence[str],
        value_of: Callable[[Any, str], Any] = get_path,
    ) -> None:
        self.fields = tuple(fields)
        self.by_key: dict[Key, list[Mapping[str, Any]]] = {}
        for record in candidates:
            key = record_key(record, self.fields, value_of)
            if key is not None:
                self.by_key.setdefault(key, []).append(record)

    def lookup(self, key: Key | None) -> list[Mapping[str, Any]]:
        return list(self.by_key.get(key, [])) if key is not None else []


#: Fields a create prefers its candidates to share: a Custompms record's `kind`, the constant
#: that says which flow it belongs to (a Division's create adopts a `division` Customer
#: before another Customer of the same name).
PREFER_SAME = ("kind",)


def pick(
    candidates: Sequence[Mapping[str, Any]],
    *,
    id_field: str,
    prefer: Mapping[str, Any] | None = None,
    value_of: Callable[[Any, str], Any] = get_path,
) -> Mapping[str, Any] | None:
    """The candidate a create adopts: among those with the `prefer` values if any, else
    among all, the one with the lowest id; None if there is none."""
    if not candidates:
        return None
    wanted = {k: v for k, v in (prefer or {}).items() if v is not None}
    preferred = [
        c for c in candidates if wanted and all(value_of(c, k) == v for k, v in wanted.items())
    ]
    return min(preferred or candidates, key=lambda record: str(record[id_field]))


def adopt(
    index: CandidateIndex | None,
    match: Mapping[str, Any],
    fields: Mapping[str, Any],
    *,
    id_field: str,
    value_of: Callable[[Any, str], Any] = get_path,
) -> Mapping[str, Any] | None:
    """The existing record a create with `match` adopts instead of creating one, from the
    candidates in `index` (built over the same match fields); None: create."""
    names, key = wanted_key(match)
    if index is None or index.fields != names:
        return None
    prefer = {k: fields.get(k) for k in PREFER_SAME if k in fields}
    return pick(index.lookup(key), id_field=id_field, prefer=prefer, value_of=value_of)
