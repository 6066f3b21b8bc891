from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from connectors.salesforce.formats import (
    format_date,
    format_datetime,
    parse_date,
    parse_datetime,
    soql_like_escape,
    soql_literal,
    soql_quote,
)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-25T23:08:24.000+0000",
        "2026-11-25T23:08:24Z",
        "2026-11-25T23:08:24.000Z",
        "2026-11-26T00:08:24+01:00",
        "2026-11-25T18:08:24.000-0500",
        "2026-11-25T23:08:24",
    ],
)
def test_parse_datetime_accepts_salesforce_and_iso_forms(text: str) -> None:
    assert parse_datetime(text) == datetime(2026, 11, 25, 23, 8, 24, tzinfo=UTC)


def test_format_datetime_uses_salesforce_style_with_milliseconds() -> None:
    value = datetime(2026, 11, 25, 23, 8, 24, 123456, tzinfo=UTC)
    assert format_datetime(value) == "2026-11-25T23:08:24.123+0000"


def test_format_datetime_converts_offsets_to_utc_and_treats_naive_as_utc() -> None:
    plus_two = datetime(2026, 11, 26, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert format_datetime(plus_two) == "2026-11-25T23:00:00.000+0000"
    assert format_datetime(datetime(2026, 1, 1)) == "2026-01-01T00:00:00.000+0000"


def test_datetime_round_trip_keeps_milliseconds() -> None:
    text = "2026-03-01T04:05:06.789+0000"
    assert format_datetime(parse_datetime(text)) == text


def test_dates() -> None:
    assert parse_date("2026-11-25") == date(2026, 11, 25)
    assert format_date(date(2026, 1, 2)) == "2026-01-02"


def test_invalid_datetime_raises() -> None:
    with pytest.raises(ValueError):
        parse_datetime("yesterday")


def test_soql_quote_escapes_quotes_backslashes_and_controls() -> None:
    assert soql_quote('O\'Brien \\ "x"\n') == "'O\\'Brien \\\\ \\\"x\\\"\\n'"


def test_soql_literal_for_each_type() -> None:
    when = datetime(2026, 11, 25, 23, 8, 24, 5000, tzinfo=UTC)
    assert soql_literal(None) == "null"
    assert soql_literal(True) == "true"
    assert soql_literal(3) == "3"
    assert soql_literal(when) == "2026-11-25T23:08:24.005Z"
    assert soql_literal(date(2026, 11, 25)) == "2026-11-25"
    assert soql_literal(["a", "b"]) == "('a', 'b')"


def test_soql_literal_rejects_empty_lists() -> None:
    with pytest.raises(ValueError):
        soql_literal([])


def test_like_escape_neutralises_wildcards() -> None:
    assert soql_like_escape("100%_done") == "100\\%\\_done"
