"""Bulk API 2.0 pure parts: CSV rendering, locators, and the SOQL that query jobs refuse."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from emulators.salesforce.bulk.csvfmt import format_value, render_page
from emulators.salesforce.bulk.jobs import decode_locator, encode_locator
from emulators.salesforce.bulk.restrictions import bulk_refusal
from emulators.salesforce.schema import FieldDef

TEXT = FieldDef("Subject", "string", "Subject", length=255)
FLAG = FieldDef("IsClosed", "boolean", "Closed")
WHEN = FieldDef("CreatedDate", "datetime", "Created Date")
DAY = FieldDef("ActivityDate", "date", "Due Date")
COUNT = FieldDef("SortOrder", "int", "Sort Order")


def test_every_value_is_quoted_and_quotes_inside_are_doubled() -> None:
    page = render_page([("Subject", TEXT)], [{"Subject": 'say "hi", then go'}])
    assert page == '"Subject"\n"say ""hi"", then go"\n'


def test_null_is_an_empty_quoted_value_and_booleans_are_lower_case() -> None:
    page = render_page(
        [("Subject", TEXT), ("IsClosed", FLAG)], [{"Subject": None, "IsClosed": True}]
    )
    assert page.splitlines()[1] == '"","true"'


def test_datetimes_are_utc_with_milliseconds_and_z() -> None:
    assert format_value(WHEN, "2026-11-25T23:08:24.000+0000") == "2026-11-25T23:08:24.000Z"
    moment = datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
    assert format_value(WHEN, moment) == "2026-01-02T03:04:05.678Z"
    assert format_value(DAY, date(2026, 1, 2).isoformat()) == "2026-01-02"
    assert format_value(COUNT, 3.0) == "3"


def test_relationship_columns_read_nested_records() -> None:
    owner = FieldDef("Name", "string", "Full Name")
    page = render_page([("Owner.Name", owner)], [{"Owner": {"Name": "Alice"}}, {"Owner": None}])
    assert page == '"Owner.Name"\n"Alice"\n""\n'


@pytest.mark.parametrize(("delimiter", "char"), [("TAB", "\t"), ("CARET", "^"), ("PIPE", "|")])
def test_the_jobs_delimiter_and_line_ending_are_used(delimiter: str, char: str) -> None:
    page = render_page(
        [("A", TEXT), ("B", TEXT)], [{"A": "1", "B": "2"}], delimiter=delimiter, line_ending="CRLF"
    )
    assert page == f'"A"{char}"B"\r\n"1"{char}"2"\r\n'


def test_locators_read_like_salesforces_and_round_trip() -> None:
    assert encode_locator(10000) == "MTAwMDA"  # the docs' example locator
    assert decode_locator(encode_locator(123)) == 123
    assert decode_locator("not a locator!") is None
    assert decode_locator("YWJj") is None  # base64 of "abc": no offset


@pytest.mark.parametrize(
    ("soql", "refused"),
    [
        ("SELECT Id FROM Task", False),
        ("SELECT Id, Owner.Name FROM Task WHERE Subject LIKE 'Count%' ORDER BY Id LIMIT 5", False),
        ("SELECT Id FROM Task WHERE Subject = 'GROUP BY OFFSET'", False),
        ("SELECT COUNT() FROM Task", True),
        ("SELECT MAX(CreatedDate) FROM Task", True),
        ("SELECT Status FROM Task GROUP BY Status", True),
        ("SELECT Id FROM Task OFFSET 10", True),
        ("SELECT Id, (SELECT Id FROM Tasks) FROM User", True),
        ("SELECT FIELDS(STANDARD) FROM Task", True),
        ("SELECT TYPEOF What WHEN Account THEN Name END FROM Task", True),
    ],
)
def test_bulk_refuses_exactly_the_documented_constructs(soql: str, refused: bool) -> None:
    assert (bulk_refusal(soql) is not None) is refused


def test_a_nested_query_gets_salesforces_message() -> None:
    assert bulk_refusal("SELECT Id, (SELECT Id FROM Tasks) FROM User") == (
        "Aggregate Relationships not supported in Bulk Query"
    )
