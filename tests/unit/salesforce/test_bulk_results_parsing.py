"""The client's reading of Bulk API 2.0 CSV pages (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from connectors.salesforce.bulk2 import parse_csv_page
from connectors.salesforce.formats import csv_value

TYPES = {
    "IsClosed": "boolean",
    "SortOrder": "int",
    "Amount": "double",
    "ActivityDate": "date",
    "CreatedDate": "datetime",
    "Subject": "string",
}


def test_values_are_typed_by_the_describe_types_and_empty_is_none() -> None:
    page = (
        '"Subject","IsClosed","SortOrder","Amount","ActivityDate","CreatedDate","Owner.Name"\n'
        '"a, ""b""","true","3","2.5","2026-12-01","2026-12-01T10:00:00.000Z",""\n'
    )
    [record] = parse_csv_page(page, types=TYPES)
    assert record == {
        "Subject": 'a, "b"',
        "IsClosed": True,
        "SortOrder": 3,
        "Amount": 2.5,
        "ActivityDate": date(2026, 12, 1),
        "CreatedDate": datetime(2026, 12, 1, 10, tzinfo=UTC),
        "Owner.Name": None,
    }


def test_other_delimiters_line_endings_and_embedded_newlines() -> None:
    page = '"Subject"^"IsClosed"\r\n"two\nlines"^"false"\r\n'
    assert parse_csv_page(page, delimiter="CARET", line_ending="CRLF", types=TYPES) == [
        {"Subject": "two\nlines", "IsClosed": False}
    ]


def test_an_empty_page_and_a_header_only_page_have_no_records() -> None:
    assert parse_csv_page("") == [] and parse_csv_page('"Id"\n') == []


def test_unknown_types_stay_text() -> None:
    assert csv_value(None, "x") == "x" and csv_value("picklist", "") is None
