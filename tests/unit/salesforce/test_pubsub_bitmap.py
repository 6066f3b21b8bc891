"""Field bitmaps of change events: the client's decoder against the documented format."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.salesforce.pubsub.bitmap import (
    BitmapError,
    SchemaField,
    decode_bitmap,
    encode_bitmap,
    positions,
    schema_fields,
)
from emulators.salesforce.pubsub.bitmap import encode_bitmap as emulator_encode
from emulators.salesforce.pubsub.bitmap import hex_bitmap

ADDRESS = ("Street", "City", "State", "PostalCode", "Country")
# Header at 0, then 299 plain fields, with a compound address at position 4.
FIELDS = tuple(
    SchemaField("BillingAddress", ADDRESS)
    if n == 4
    else SchemaField("ChangeEventHeader" if n == 0 else f"F{n}")
    for n in range(300)
)


def test_documentation_example_decodes_bit_by_bit_from_the_least_significant() -> None:
    # 0x650004E0: 0x65 in the top byte (bits 24, 26, 29, 30), 0x04 (10), 0xE0 (5, 6, 7).
    assert positions("650004E0") == (5, 6, 7, 10, 24, 26, 29, 30)
    names = decode_bitmap(["0x650004E0"], FIELDS)
    assert names == ("F5", "F6", "F7", "F10", "F24", "F26", "F29", "F30")


def test_nested_entry_names_the_compound_fields_children() -> None:
    # '4-0x10' in the documentation: bit 4 of the compound field at position 4.
    assert decode_bitmap(["4-0x10"], FIELDS) == ("BillingAddress.Country",)
    assert decode_bitmap(["0x02", "4-0x03"], FIELDS) == (
        "F1",
        "BillingAddress.Street",
        "BillingAddress.City",
    )


@pytest.mark.parametrize("position", [63, 64, 65, 127, 128, 299])
def test_positions_beyond_63_decode(position: int) -> None:
    bitmap = hex_bitmap([position])
    assert len(bitmap) == 2 + 2 * (position // 8 + 1)
    assert decode_bitmap([bitmap], FIELDS) == (f"F{position}",)


def test_empty_list_and_zero_bitmap_mean_no_fields() -> None:
    assert decode_bitmap([], FIELDS) == ()
    assert decode_bitmap(["0x00"], FIELDS) == ()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("650004E0", "malformed"),
        ("0xZZ", "malformed"),
        ("x-0x01", "malformed"),
        ("0x1" + "0" * 76, "sets position 304, but the schema has 300 fields"),
        ("3-0x01", "not a compound field"),
        ("4-0x20", "no nested field 5"),
        ("400-0x01", "schema has 300 fields"),
    ],
)
def test_bad_bitmaps_fail_with_a_message_naming_the_entry(entry: str, message: str) -> None:
    with pytest.raises(BitmapError, match=message) as raised:
        decode_bitmap([entry], FIELDS)
    assert entry in str(raised.value)


names = st.sampled_from([f.name for f in FIELDS[1:]] + [f"BillingAddress.{c}" for c in ADDRESS])


@given(st.sets(names))
def test_encode_then_decode_gives_the_same_field_set(chosen: set[str]) -> None:
    bitmap = encode_bitmap(chosen, FIELDS)
    assert set(decode_bitmap(bitmap, FIELDS)) == chosen


@given(
    st.sets(st.integers(1, 299)),
    st.dictionaries(st.just(4), st.sets(st.integers(0, len(ADDRESS) - 1), min_size=1)),
)
def test_what_the_emulator_encodes_the_client_decodes(
    top: set[int], nested: dict[int, set[int]]
) -> None:
    top.discard(4)
    bitmap = emulator_encode(top, nested)
    expected = {f"F{p}" for p in top} | {f"BillingAddress.{ADDRESS[c]}" for c in nested.get(4, ())}
    assert set(decode_bitmap(bitmap, FIELDS)) == expected
    if not top:
        assert all("-" in entry for entry in bitmap)  # no empty top-level element


def test_emulator_writes_whole_bytes_in_upper_case() -> None:
    assert hex_bitmap([0]) == "0x01"
    assert hex_bitmap([1, 9]) == "0x0202"
    assert hex_bitmap([5, 6, 7, 10, 24, 26, 29, 30]) == "0x650004E0"
    assert emulator_encode([]) == []


def test_schema_fields_reads_compound_fields_from_nullable_records() -> None:
    schema = {
        "type": "record",
        "name": "AccountChangeEvent",
        "fields": [
            {"name": "ChangeEventHeader", "type": {"type": "record", "name": "H", "fields": []}},
            {"name": "Name", "type": ["null", "string"]},
            {
                "name": "BillingAddress",
                "type": [
                    "null",
                    {
                        "type": "record",
                        "name": "Address",
                        "fields": [{"name": "Street", "type": ["null", "string"]}],
                    },
                ],
            },
        ],
    }
    assert schema_fields(schema) == (
        SchemaField("ChangeEventHeader"),
        SchemaField("Name"),
        SchemaField("BillingAddress", ("Street",)),
    )
