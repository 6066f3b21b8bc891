"""Dead letters as the dashboard shows them: decoded locally, payload bytes never shown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from foundation.logs import RedactingFilter
from sfpms.observe.deadletters import decode, encode, view


def dead_letter(**overrides: object) -> dict[str, object]:
    record: dict[str, object] = {
        "stage": "sink",
        "topic": "custompms.writes",
        "partition": 2,
        "offset": 41,
        "key": b"00T1",
        "value": b"secret-payload-bytes",
        "error_class": "FatalError",
        "reason": "422 name is required",
        "flow": "task_project",
        "record": "00T1",
        "field": "name",
        "attempts": 3,
        "failed_at": datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
    }
    record.update(overrides)
    return record


def test_a_dead_letter_round_trips_through_the_confluent_framing() -> None:
    data = encode(dead_letter(), schema_id=7)
    assert data[0] == 0 and int.from_bytes(data[1:5], "big") == 7
    decoded = decode(data)
    assert decoded["flow"] == "task_project" and decoded["value"] == b"secret-payload-bytes"


def test_bytes_without_the_magic_byte_are_refused() -> None:
    with pytest.raises(ValueError, match="magic byte"):
        decode(b"{not avro}")


def test_the_view_keeps_what_an_operator_needs_and_drops_the_payload() -> None:
    shown = view(decode(encode(dead_letter())), RedactingFilter()).as_dict()
    assert shown == {
        "stage": "sink",
        "flow": "task_project",
        "record": "00T1",
        "field": "name",
        "reason": "422 name is required",
        "error_class": "FatalError",
        "failed_at": "2026-11-25T09:30:00+00:00",
        "attempts": 3,
        "source": "custompms.writes/2@41",
    }
    assert "secret-payload-bytes" not in repr(shown)


def test_secrets_and_bearer_tokens_in_a_reason_are_redacted() -> None:
    record = dead_letter(reason="401 with Authorization: Bearer abcdefgh12345678 and pw hunter22")
    shown = view(decode(encode(record)), RedactingFilter(["hunter22"]))
    assert "abcdefgh12345678" not in shown.reason
    assert "hunter22" not in shown.reason


def test_a_long_reason_is_cut() -> None:
    shown = view(decode(encode(dead_letter(reason="x" * 2000))), RedactingFilter())
    assert len(shown.reason) <= 501
