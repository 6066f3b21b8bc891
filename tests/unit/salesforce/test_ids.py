from __future__ import annotations

import pytest

from emulators.salesforce import ids


def test_checksum_matches_salesforce_documentation_example() -> None:
    assert ids.to18("001D000000IqhSL") == "001D000000IqhSLIAZ"


def test_all_lowercase_id_has_suffix_aaa() -> None:
    assert ids.checksum("00t5e0000000001") == "AAA"


def test_15_character_id_normalizes_to_18() -> None:
    assert ids.normalize("001D000000IqhSL") == "001D000000IqhSLIAZ"


def test_18_character_id_is_accepted_in_any_case() -> None:
    assert ids.normalize("001d000000iqhsliaz") == "001D000000IqhSLIAZ"
    assert ids.normalize("001D000000IQHSLIAZ") == "001D000000IqhSLIAZ"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "001",
        "001D000000IqhS!",
        "001D000000IqhSLIA",
        "001D000000IqhSLIAZZ",
        "0010000000000009AA",
    ],
)
def test_malformed_ids_are_rejected(bad: str) -> None:
    with pytest.raises(ids.MalformedId):
        ids.normalize(bad)


def test_suffix_claiming_uppercase_digit_is_malformed() -> None:
    # Suffix "B" says the first character of chunk one is upper case, but it is a digit.
    with pytest.raises(ids.MalformedId):
        ids.normalize("001000000000000BAA")


def test_minted_ids_increase_in_string_order_and_have_the_key_prefix() -> None:
    minter = ids.IdMinter()
    minted = [minter.mint("00T") for _ in range(100)]
    assert minted == sorted(minted)
    assert len(set(minted)) == 100
    assert all(m.startswith("00T") and len(m) == 18 and ids.normalize(m) == m for m in minted)


def test_minter_continues_from_restored_counters() -> None:
    first = ids.IdMinter().mint("00T")
    resumed = ids.IdMinter({"00T": 1}).mint("00T")
    assert resumed > first


def test_base62_encoding_pads_and_bounds() -> None:
    assert ids.encode62(61, 2) == "0z"
    with pytest.raises(ValueError):
        ids.encode62(62**2, 2)
