"""The record store without HTTP: batches, all-or-none, validation, persistence."""

from __future__ import annotations

import threading
from pathlib import Path

from emulators.salesforce.store import Caller, Op, Store

USER = "0055e0000000001AAA"


def _store(path: Path | None = None) -> Store:
    store = Store(path)
    body = {
        "Id": USER,
        "Username": "u@x",
        "Name": "U",
        "LastName": "U",
        "Email": "u@x",
        "Alias": "u",
        "IsActive": True,
    }
    store.apply([Op("create", "User", body=body)], Caller(USER), admin=True)
    return store


def test_one_batch_shares_one_system_modstamp() -> None:
    store = _store()
    results = store.apply(
        [Op("create", "Task", body={"Subject": str(n)}) for n in range(5)], Caller(USER)
    )
    stamps = {store.get(r.id)[1]["SystemModstamp"] for r in results if r.id}  # type: ignore[index]
    assert len(stamps) == 1


def test_all_or_none_applies_nothing_when_one_record_fails() -> None:
    store = _store()
    ops = [Op("create", "Task", body={"Subject": "ok"}), Op("create", "Task", body={"Status": "?"})]
    results = store.apply(ops, Caller(USER), all_or_none=True)
    assert [r.errors[0].code for r in results] == [
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    ]
    assert store.changes[-1]["sobject"] == "User"


def test_later_operations_in_a_batch_see_earlier_ones() -> None:
    store = _store()
    task_id = store.apply([Op("create", "Task", body={"Subject": "a"})], Caller(USER))[0].id
    results = store.apply(
        [
            Op("update", "Task", task_id, {"Subject": "b"}),
            Op("delete", "Task", task_id),
            Op("update", "Task", task_id, {"Subject": "c"}),
        ],
        Caller(USER),
    )
    assert [r.success for r in results] == [True, True, False]
    assert results[2].errors[0].code == "ENTITY_IS_DELETED"


def test_parallel_updates_of_different_fields_all_survive() -> None:
    store = _store()
    task_id = store.apply([Op("create", "Task", body={"Subject": "a"})], Caller(USER))[0].id
    fields = {
        "Subject": "s",
        "Description": "d",
        "Priority": "Low",
        "Type": "Call",
        "ActivityDate": "2026-01-01",
        "Custompms_Id__c": "c",
    }

    def write(name: str, value: str) -> None:
        for _ in range(20):
            store.apply([Op("update", "Task", task_id, {name: value})], Caller(USER))

    threads = [threading.Thread(target=write, args=item) for item in fields.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    record = store.get(task_id)[1]  # type: ignore[arg-type,index]
    assert record["Subject"] == "s" and record["Custompms_Id__c"] == "c"
    assert record["Priority"] == "Low" and str(record["ActivityDate"]) == "2026-01-01"


def test_records_and_id_counters_survive_reopening(tmp_path: Path) -> None:
    db = tmp_path / "sf.db"
    store = _store(db)
    first = store.apply([Op("create", "Task", body={"Subject": "a"})], Caller(USER))[0].id
    store.db.close()
    reopened = Store(db)
    assert reopened.get(first)[1]["Subject"] == "a"  # type: ignore[arg-type,index]
    second = reopened.apply([Op("create", "Task", body={"Subject": "b"})], Caller(USER))[0].id
    assert second is not None and first is not None and second > first
