"""The one dead-letter builder: bounded copies, and the record matches its Avro schema."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from fastavro import schemaless_reader, schemaless_writer

from foundation.deadletters import (
    MAX_KEY_BYTES,
    MAX_VALUE_BYTES,
    DeadLetter,
    dead_letter,
    dead_letter_for_error,
)
from foundation.errors import FatalError
from foundation.kafka.schemas import parsed, schema_dict

#: librdkafka's default message.max.bytes; a dead letter must stay well below it.
KAFKA_MESSAGE_LIMIT = 1_000_000


def _encoded(letter: DeadLetter) -> bytes:
    out = io.BytesIO()
    schemaless_writer(out, parsed("sfpms.DeadLetter"), letter.to_record())
    return out.getvalue()


def test_the_typed_record_has_exactly_the_fields_of_the_avro_schema() -> None:
    schema_fields = [f["name"] for f in schema_dict("sfpms.DeadLetter")["fields"]]
    letter = dead_letter("sink", error_class="E", reason="r")
    assert sorted(letter.to_record()) == sorted(schema_fields)


def test_a_record_above_the_broker_limit_gives_a_dead_letter_far_below_it() -> None:
    huge = b"\xab" * 1_200_000
    letter = dead_letter(
        "engine",
        error_class="ValueError",
        reason="cannot read " + "x" * 2_000_000,
        record="r" * 2_000_000,
        topic="salesforce.task.changes",
        partition=3,
        offset=41,
        key=b"k" * 2_000_000,
        value=huge,
    )
    encoded = _encoded(letter)
    assert len(encoded) < MAX_VALUE_BYTES + 20_000 < KAFKA_MESSAGE_LIMIT
    assert letter.truncated and letter.value_size == len(huge)
    assert letter.value == huge[:MAX_VALUE_BYTES]
    assert letter.key is not None and len(letter.key) == MAX_KEY_BYTES
    assert len(letter.message_key) <= MAX_KEY_BYTES
    # Where the whole record is stays exact.
    assert (letter.topic, letter.partition, letter.offset) == ("salesforce.task.changes", 3, 41)


def test_a_record_within_the_bound_is_kept_byte_for_byte() -> None:
    value = bytes(range(256)) * 100
    letter = dead_letter("sink", error_class="E", reason="r", key=b"k", value=value)
    assert letter.value == value and letter.key == b"k"
    assert not letter.truncated and letter.whole and letter.value_size == len(value)


def test_it_round_trips_through_avro_and_reads_records_written_before_the_new_fields() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)
    letter = dead_letter("cdc", error_class="E", reason="r", value=b"v", failed_at=now)
    back = schemaless_reader(io.BytesIO(_encoded(letter)), parsed("sfpms.DeadLetter"))
    assert isinstance(back, dict)
    assert DeadLetter.from_record(back) == letter
    old = {k: v for k, v in letter.to_record().items() if k not in ("value_size", "truncated")}
    assert DeadLetter.from_record(old).truncated is False


def test_an_error_names_its_flow_record_and_field() -> None:
    error = FatalError("too long", flow="task_project", record="00T1", field="Subject")
    letter = dead_letter_for_error("sink", error, topic="t", attempts=3)
    assert (letter.flow, letter.record, letter.field) == ("task_project", "00T1", "Subject")
    assert letter.error_class == "FatalError" and "too long" in letter.reason
    assert letter.attempts == 3 and letter.topic == "t"
    plain = dead_letter_for_error("cdc", KeyError("Id"), record="x")
    assert plain.reason == "KeyError: 'Id'" and plain.record == "x"
