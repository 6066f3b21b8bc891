"""The engine's dead letters: re-drivable with their key, and bounded whatever the record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from foundation.deadletters import MAX_VALUE_BYTES
from foundation.kafka import topics as t
from tests.unit.fuzz.test_processor_fuzz import Engine

SF_TOPIC = t.changes_topic("salesforce", "task")
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _envelope(record_id: str, subject: str) -> dict[str, Any]:
    return {
        "op": "c",
        "before": None,
        "after": {"Id": record_id, "Subject": subject, "Status": "Not Started"},
        "source": {
            "system": "salesforce",
            "entity": "Task",
            "id": record_id,
            "modstamp": NOW,
            "origin": "person",
        },
        "ts_ms": NOW,
    }


def _letters(engine: Engine, key: bytes, value: bytes) -> tuple[list[Any], list[dict[str, Any]]]:
    handled = engine.handle(SF_TOPIC, (2, 17), key, value, {})
    emits = engine.processor.encode(handled)
    return emits, engine.dead_letters(emits)


def test_an_unmappable_change_is_dead_lettered_with_its_key_so_a_redrive_keeps_its_partition() -> (
    None
):
    engine = Engine()
    record_id = "00T5e00000TooLongA"
    value = engine.encode(SF_TOPIC, _envelope(record_id, "S" * 300))
    _emits, letters = _letters(engine, record_id.encode(), value)
    assert {(letter["flow"], letter["field"]) for letter in letters} >= {
        ("task_project", "Subject")
    }
    for letter in letters:  # one per flow the Task feeds
        assert letter["key"] == record_id.encode()
        assert letter["value"] == value and not letter["truncated"]


def test_a_value_over_the_message_limit_gives_a_bounded_dead_letter_naming_where_it_is() -> None:
    engine = Engine()
    huge = b"\x00\x00\x00\x00\x01" + b"\xee" * 999_900
    emits, letters = _letters(engine, b"00T5e00000HugeAAAA", huge)
    assert len(letters) == 1
    letter = letters[0]
    assert letter["truncated"] and letter["value_size"] == len(huge)
    assert letter["value"] == huge[:MAX_VALUE_BYTES]
    assert (letter["topic"], letter["partition"], letter["offset"]) == (SF_TOPIC, 2, 17)
    assert all(len(e.value) < 200_000 for e in emits)
