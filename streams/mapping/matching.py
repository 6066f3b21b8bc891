"""Onboarding match: pair records that already exist on both sides by normalised values.

Only flows with `match_on` rows match (the Customer flows, by name); the others create.
A record whose match key cannot be built (an empty name, a value that does not convert)
matches nothing and is handled by the creation rules instead.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from streams.mapping.apply import get_path
from streams.mapping.errors import ConversionError
from streams.mapping.table import Flow

_SPACES = re.compile(r"\s+")
#: Dashes and connectors separate words ("Acme-Corp" is "Acme Corp"); other punctuation is
#: dropped ("Acme, Inc." is "Acme Inc", "O'Brien" is "OBrien").
_SEPARATOR_CATEGORIES = frozenset({"Pd", "Pc"})


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


def _key_part(value: Any) -> Any:
    return normalise_name(value) if isinstance(value, str) else value


def _complete(parts: list[Any]) -> tuple[Any, ...] | None:
    if not parts or any(part is None or part == "" for part in parts):
        return None
    return tuple(parts)


def match_key_sf(flow: Flow, sf_record: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The match key of a Salesforce record, in Custompms terms; None if it cannot match."""
    parts = []
    for key in flow.match_on:
        row = flow.row(key)
        value = sf_record.get(row.sf_field) if row.sf_field else None
        if row.to_pms is not None:
            try:
                value = row.to_pms(value)
            except ConversionError:
                return None
        parts.append(_key_part(value))
    return _complete(parts)


def match_key_pms(flow: Flow, pms_record: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The match key of a Custompms record; None if it cannot match."""
    return _complete([_key_part(get_path(pms_record, key)) for key in flow.match_on])
