"""Writes that travel together: a decision's intents grouped into commands."""

from __future__ import annotations

import pytest

from foundation.wire import Source
from streams.core.commands import commands_for
from streams.core.model import WriteIntent

CAUSE = Source("salesforce", "Task", "00T1", modstamp=5)


def create(flow: str, entity: str, refs: dict[str, str] | None = None) -> WriteIntent:
    return WriteIntent(flow, "00T1", "custompms", entity, "create", refs=refs or {})


def test_intents_for_one_link_and_system_become_one_command_in_order() -> None:
    intents = [
        create("task_project", "project"),
        create("task_task", "task", {"project_id": "task_project"}),
        WriteIntent("task_project", "00T1", "salesforce", "Task", "update", "00T1", {"a": 1}),
    ]
    pms, sf = commands_for(intents, CAUSE, 7)
    assert [op.entity for op in pms.ops] == ["project", "task"]
    assert pms.ops[1].refs == {"project_id": 0}
    assert (sf.system, len(sf.ops), sf.issued_at, sf.cause) == ("salesforce", 1, 7, CAUSE)


def test_a_reference_to_a_record_no_earlier_write_creates_is_refused() -> None:
    with pytest.raises(ValueError, match="task_project"):
        commands_for([create("task_task", "task", {"project_id": "task_project"})], None, 1)


def test_the_same_decision_gives_the_same_command_id_and_another_cause_another() -> None:
    intents = [create("task_project", "project")]
    (first,) = commands_for(intents, CAUSE, 1)
    (again,) = commands_for(intents, CAUSE, 99)
    (other,) = commands_for(intents, Source("salesforce", "Task", "00T1", modstamp=6), 1)
    assert first.command_id == again.command_id != other.command_id
