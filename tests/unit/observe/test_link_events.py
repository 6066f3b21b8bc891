"""Topic records about a link, told in words: what `sfpms links history` and the link page show."""

from __future__ import annotations

from datetime import UTC, datetime

from sfpms.observe.linkevents import (
    change_event,
    changed_fields,
    dead_letter_event,
    result_event,
    targets,
    who,
    write_event,
)

AT = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)


def _source(origin: str, actor: str | None = "alice") -> dict[str, object]:
    return {
        "system": "salesforce",
        "entity": "Task",
        "id": "00T1",
        "version": None,
        "modstamp": AT,
        "origin": origin,
        "actor": actor,
        "commit_ts": None,
        "seq": None,
        "snapshot": False,
    }


def test_an_update_names_who_changed_which_field_from_what_to_what() -> None:
    envelope = {
        "op": "u",
        "before": {"Subject": "Call", "Status": "Open", "SystemModstamp": "x"},
        "after": {"Subject": "Call", "Status": "Done", "SystemModstamp": "y"},
        "source": _source("person"),
        "ts_ms": AT,
    }
    event = change_event("p.salesforce.task.changes", 2, 7, envelope)
    assert event.summary == "Salesforce Task 00T1 updated by alice: Status Open → Done"
    assert event.as_dict()["where"] == "p.salesforce.task.changes@2:7"
    assert event.as_dict()["at"] == "2026-05-04T03:02:01+00:00"


def test_the_syncs_own_echo_says_so() -> None:
    assert who(_source("sync", actor="sfpms")) == "the sync"
    assert who(_source("person", actor=None)) == "a person"
    envelope = {
        "op": "c",
        "before": None,
        "after": {"Subject": "Call"},
        "source": _source("sync"),
        "ts_ms": AT,
    }
    assert change_event("t", 0, 0, envelope).summary == (
        "Salesforce Task 00T1 created by the sync: Subject=Call"
    )


def test_unchanged_and_bookkeeping_fields_are_left_out_of_a_change() -> None:
    assert changed_fields({"a": 1, "version": 1}, {"a": 1, "version": 2, "b": 3}) == {
        "b": [None, 3]
    }


COMMAND = {
    "command_id": "c1",
    "flow": "task_project",
    "link_key": "00T1",
    "system": "custompms",
    "entity": "project",
    "action": "update",
    "target_id": "prj_1",
    "external_id_field": None,
    "external_id": None,
    "idempotency_key": None,
    "if_match": None,
    "fields": {"status": "done"},
    "match": {},
    "cause": _source("person"),
    "issued_at": AT,
}


def test_a_write_says_what_it_sets_and_which_change_it_answers() -> None:
    event = write_event("t", 0, 1, COMMAND)
    assert event.summary == (
        "write issued: update Custompms project prj_1 set status=done "
        "(because of Salesforce Task 00T1 by alice)"
    )
    assert targets(COMMAND) == {"prj_1"}


def test_a_multi_op_command_tells_each_op_in_order() -> None:
    ops = [
        {
            "flow": "task_project",
            "entity": "project",
            "action": "create",
            "target_id": None,
            "fields": {"name": "Call"},
        },
        {
            "flow": "task_task",
            "entity": "task",
            "action": "create",
            "target_id": None,
            "external_id": "tsk-key",
            "fields": {"title": "Call"},
        },
    ]
    command = {
        "command_id": "c2",
        "link_key": "00T1",
        "system": "custompms",
        "cause": None,
        "issued_at": AT,
        "ops": ops,
    }
    event = write_event("t", 0, 2, command)
    assert event.summary == (
        "write issued: create Custompms project a new record set name=Call; "
        "then create Custompms task tsk-key set title=Call"
    )
    assert targets(command) == {"tsk-key"}


def test_results_say_applied_failed_or_skipped_for_a_conflict() -> None:
    base = {
        "command_id": "c1",
        "flow": "task_project",
        "link_key": "00T1",
        "system": "custompms",
        "entity": "project",
        "action": "create",
        "target_id": "prj_1",
        "created": True,
        "matched": False,
        "version": 1,
        "written": {},
        "target_modstamp": None,
        "error": None,
        "cause": None,
        "acked_at": AT,
    }
    assert result_event("t", 0, 0, base | {"outcome": "ok"}).summary == (
        "write applied: create Custompms project prj_1 (created)"
    )
    failed = base | {"outcome": "failed", "created": False, "error": "422 name is required"}
    assert result_event("t", 0, 0, failed).summary.endswith(": 422 name is required")
    assert "decided again" in result_event("t", 0, 0, base | {"outcome": "conflict"}).summary


def test_a_dead_letter_points_at_the_command_that_shows_it() -> None:
    letter = {
        "stage": "sink",
        "reason": "422 name is required",
        "field": "name",
        "error_class": "FatalError",
        "flow": "task_project",
        "failed_at": AT,
    }
    event = dead_letter_event("p.sfpms.deadletter", 3, 9, letter)
    assert event.summary == (
        "dead letter at the sink stage field name: 422 name is required (`sfpms dlq show 3:9`)"
    )
