"""The client's pure value-format helpers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from connectors.custompms.formats import (
    format_date,
    format_timestamp,
    is_timestamp,
    normalize_timestamp,
    parse_date,
    parse_timestamp,
)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2024, 5, 1, 12, 0, tzinfo=UTC), "2024-05-01T12:00:00.000Z"),
        (datetime(2024, 5, 1, 12, 0, 0, 123999, tzinfo=UTC), "2024-05-01T12:00:00.123Z"),
        (
            datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))),
            "2024-05-01T12:00:00.000Z",
        ),
        (datetime(726, 8, 2, 2, 52, 52, tzinfo=UTC), "0726-08-02T02:52:52.000Z"),
    ],
)
def test_timestamps_are_written_in_utc_with_milliseconds_and_z(
    moment: datetime, expected: str
) -> None:
    assert format_timestamp(moment) == expected
    assert is_timestamp(expected)


def test_a_naive_datetime_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_timestamp(datetime(2024, 5, 1, 12, 0))


@pytest.mark.parametrize(
    "text",
    ["2024-05-01T12:00:00Z", "2024-05-01T12:00:00.000Z", "2024-05-01T14:00:00+02:00"],
)
def test_rfc3339_timestamps_parse_to_the_same_utc_moment(text: str) -> None:
    assert parse_timestamp(text) == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert normalize_timestamp(text) == "2024-05-01T12:00:00.000Z"


@pytest.mark.parametrize("text", ["2024-05-01T12:00:00", "yesterday", ""])
def test_timestamps_without_offset_or_garbled_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_dates_round_trip_as_yyyy_mm_dd() -> None:
    assert format_date(date(2024, 2, 29)) == "2024-02-29"
    assert format_date(datetime(2024, 2, 29, 23, 59, tzinfo=UTC)) == "2024-02-29"
    assert parse_date("2024-02-29") == date(2024, 2, 29)
    for bad in ("2024-2-29", "2023-02-29", "29.02.2024"):
        with pytest.raises(ValueError):
            parse_date(bad)
