"""The records the benchmarks write by hand follow the schemas the product reads: a
benchmark that fails only when it is run (after an hour of setup) is found here instead."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from fastavro import schemaless_reader, schemaless_writer

from benchmarks.baseline import project_command
from benchmarks.harness import sf_id, task_envelope
from foundation.kafka.schemas import parsed
from foundation.wire import WriteCommand


def test_the_hand_loops_command_is_a_write_command_the_sinks_can_read() -> None:
    envelope = task_envelope(sf_id(7), "Call back", datetime(2026, 12, 1, tzinfo=UTC))
    schema = parsed("sfpms.WriteCommand")
    buffer = io.BytesIO()
    schemaless_writer(buffer, schema, project_command(envelope))
    buffer.seek(0)
    decoded = WriteCommand.from_avro(schemaless_reader(buffer, schema, None))  # type: ignore[arg-type]
    assert [(op.flow, op.entity, op.action) for op in decoded.ops] == [
        ("task_project", "project", "create")
    ]
    assert decoded.ops[0].fields["name"] == "Call back"


def test_the_benchmarks_task_envelope_is_a_task_change_as_capture_writes_it() -> None:
    envelope = task_envelope(sf_id(8), "Demo", datetime(2026, 12, 1, tzinfo=UTC))
    buffer = io.BytesIO()
    schemaless_writer(buffer, parsed("sfpms.salesforce.TaskChange"), envelope)
    assert buffer.tell() > 0
