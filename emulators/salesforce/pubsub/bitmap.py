"""Pub/Sub API field bitmaps (changedFields, nulledFields, diffFields), written as Salesforce does.

A bitmap field is a list of strings. The first element covers the schema's top-level
fields: bit n (counting from the least significant bit) is set when the field at position n
of the Avro schema is in the set, written as `0x` and upper-case hex digits, whole bytes,
most significant byte first (`'0x650004E0'`). Each compound field with nested fields in
the set adds one element `{ParentFieldPosition}-{NestedFieldBitmap}` (`'4-0x10'`). When
only nested fields are set the top-level element is left out; an empty set is an empty
list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def hex_bitmap(positions: Iterable[int]) -> str:
    """`0x...` with bit n set for each position n (at least one byte)."""
    value = 0
    for position in positions:
        if position < 0:
            raise ValueError(f"bitmap position must not be negative: {position}")
        value |= 1 << position
    width = max(1, (value.bit_length() + 7) // 8)
    return "0x" + value.to_bytes(width, "big").hex().upper()


def encode_bitmap(
    positions: Iterable[int], nested: Mapping[int, Iterable[int]] | None = None
) -> list[str]:
    """The bitmap list for top-level `positions` and `nested` {parent position: child positions}.

    A compound parent whose children are set is listed in `nested` only; it may also be in
    `positions` when the whole compound field is meant.
    """
    top = sorted(set(positions))
    children = {p: sorted(set(c)) for p, c in (nested or {}).items() if c}
    if not top and not children:
        return []
    # With only nested fields set there is no top-level element: the list starts with a
    # nested one (Salesforce's own decoder checks whether element 0 starts with "0x").
    out = [hex_bitmap(top)] if top else []
    out.extend(f"{parent}-{hex_bitmap(kids)}" for parent, kids in sorted(children.items()))
    return out
