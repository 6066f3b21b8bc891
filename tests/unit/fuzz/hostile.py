"""Hypothesis strategies for malformed and extreme input to the mapping core and the engine.

- `avro_values()`: anything an Avro change record can carry into the core (text of any
  length and content, None, booleans, longs, dates, UTC date-times), chosen to hurt:
  over-length text (up to ten times the longest limit), blank and zero-width text, RTL
  overrides, NUL, characters outside the BMP (UTF-16 surrogate pairs), invalid ISO dates,
  unknown picklist values and their near misses.
- `any_values()`: the above plus what no Avro schema of ours carries (lists, dicts, bytes,
  floats including NaN, Decimal, naive and far-off-zone date-times, lone surrogates).
- `sf_records(flow)`, `pms_records(flow)`: records of a flow's fields with such values,
  sometimes missing fields, sometimes with many unknown ones.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from streams.mapping.converters import EnumMap, Text
from streams.mapping.table import Flow

#: The longest text limit of any row (Description, 32,000): ten times over it.
LONGEST = 32_000
UNICODE_EDGES = (
    "",
    " ",
    "\t\n",
    "\u200b",  # zero-width space
    "\u200b\u200b\u200b",
    "\ufeff",  # zero-width no-break space (BOM)
    "\u202eevil\u202c",  # right-to-left override
    "שלום עולם",  # right-to-left script
    "a\x00b",  # NUL
    "\x00",
    "😀",  # outside the BMP: a surrogate pair in UTF-16
    "\U0001d518\U0001d52b\U0001d526",  # Fraktur letters, outside the BMP
    "e\u0301",  # combining accent
    "Ǆ ß ﬃ",  # case folding changes lengths
)
DATE_TEXT = (
    "2025-02-30",
    "2025-13-01",
    "31/03/2025",
    "2025-1-1",
    "",
    "0000-00-00",
    "9999-12-31",
    "0001-01-01",
    "2025-01-01T00:00:00",
    "2025-01-01T25:00:00Z",
    "2025-01-01T00:00:00+14:00",
    "tomorrow",
    "\uff12\uff10\uff12\uff15-01-01",  # full-width digits
)
PICKLIST_NEAR_MISSES = (
    "completed",
    "COMPLETED",
    "Completed ",
    " Not Started",
    "Deferred\u200b",
    "In progress",
    "Done",
    "urgent",
    "High\x00",
    "cancelled",
    "on hold",
)


def _long_text() -> st.SearchStrategy[str]:
    return st.builds(
        lambda chunk, count: (chunk * count)[: LONGEST * 10],
        st.sampled_from(["x", "😀", "ab ", "\u200b", "ش"]),
        st.integers(min_value=80, max_value=LONGEST * 10),
    )


def texts() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=50),
        st.sampled_from(UNICODE_EDGES + DATE_TEXT + PICKLIST_NEAR_MISSES),
        _long_text(),
    )


def avro_values() -> st.SearchStrategy[Any]:
    """Values an Avro record of our schemas can hold, at their most awkward."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        texts(),
        st.dates(),
        st.datetimes(timezones=st.just(dt.UTC)),
    )


def any_values() -> st.SearchStrategy[Any]:
    """Avro values and Python values that no schema of ours produces."""
    return st.one_of(
        avro_values(),
        st.floats(),
        st.binary(max_size=20),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
        st.decimals(),
        st.datetimes(),  # naive
        st.datetimes(timezones=st.timezones()),
        st.text(alphabet=st.characters(categories=["Cs"]), min_size=1, max_size=3),
    )


def enum_values(flow: Flow) -> st.SearchStrategy[Any]:
    """Valid and near-miss picklist values for the flow's enum rows."""
    known = sorted(
        {
            value
            for row in flow.rows
            for conv in (row.to_pms, row.to_sf)
            if isinstance(conv, EnumMap)
            for value in conv.sources
        }
    )
    return st.sampled_from(known + list(PICKLIST_NEAR_MISSES)) if known else st.nothing()


def at_limit(flow: Flow) -> st.SearchStrategy[str]:
    """Text just at, just over and ten times over some row's limit."""
    limits = sorted(
        {c.max_length for row in flow.rows for c in (row.to_pms, row.to_sf) if isinstance(c, Text)}
    )
    return st.builds(
        lambda limit, extra: "y" * max(limit + extra, 0),
        st.sampled_from(limits),
        st.sampled_from([-1, 0, 1, 9 * max(limits)]),
    )


def _record(
    fields: list[str], values: st.SearchStrategy[Any], flow: Flow
) -> st.SearchStrategy[dict[str, Any]]:
    value = st.one_of(values, enum_values(flow), at_limit(flow))
    known = st.dictionaries(st.sampled_from(fields), value, max_size=len(fields))
    unknown = st.dictionaries(st.text(min_size=1, max_size=8), value, max_size=3)
    bulky = st.builds(lambda n: {f"Extra_{i}__c": "z" * 100 for i in range(n)}, st.integers(0, 500))
    return st.builds(lambda a, b, c: {**c, **b, **a}, known, unknown, st.one_of(st.just({}), bulky))


def sf_records(flow: Flow, values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Flat Salesforce records over the flow's fields (some missing, some unknown)."""
    return _record([r.sf_field for r in flow.rows if r.sf_field], values, flow)


def pms_records(flow: Flow, values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Nested Custompms records: dotted paths become nested dicts, or a parent of any value."""
    paths = [r.pms_field for r in flow.rows]
    tops = sorted({p.split(".")[0] for p in paths})
    nested = {p.split(".", 1)[0]: p.split(".", 1)[1] for p in paths if "." in p}

    def build(flat: dict[str, Any], parents: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for path, value in flat.items():
            top, _, leaf = path.partition(".")
            if leaf:
                node = record.setdefault(top, {})
                if isinstance(node, dict):
                    node[leaf] = value
            else:
                record[top] = value
        record.update(parents)
        return record

    flat = _record(paths, values, flow)
    parents = st.dictionaries(
        st.sampled_from([t for t in tops if t in nested] or ["address"]),
        st.one_of(st.none(), st.text(max_size=5), st.lists(st.integers(), max_size=2)),
        max_size=1,
    )
    return st.builds(build, flat, parents)


#: Decimal is not a JSON scalar; kept importable for explicit examples.
NOT_AVRO_EXAMPLES: tuple[Any, ...] = (
    ["a list"],
    {"a": 1},
    b"bytes",
    Decimal("1.5"),
    {1, 2},
    dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))),
)
