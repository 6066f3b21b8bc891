# SOQL strings below are built from test constants for an in-process evaluator, not SQL.
# ruff: noqa: S608
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from emulators.salesforce import ids
from emulators.salesforce.schema import ObjectDef
from emulators.salesforce.soql import SoqlError, execute, parse

USER = ids.to18("0055e0000000001")
ALICE = ids.to18("0055e0000000002")
T = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def _task(n: int, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "Id": ids.to18(f"00T5e000000000{n}"),
        "Subject": f"Task {n}",
        "Status": "Not Started",
        "Priority": "Normal",
        "OwnerId": USER,
        "IsDeleted": False,
        "IsClosed": False,
        "ActivityDate": None,
        "SystemModstamp": T,
        "CreatedDate": T,
    }
    record.update(fields)
    return record


TASKS = [
    _task(1, Subject="Call Acme", Priority="High", ActivityDate=date(2026, 1, 5)),
    _task(2, Subject="call globex", Status="Completed", IsClosed=True),
    _task(3, Subject=None, OwnerId=ALICE, SystemModstamp=T + timedelta(seconds=1)),
    _task(4, Subject="Send quote 100%", SystemModstamp=T + timedelta(seconds=1)),
    _task(5, Subject="O'Brien follow-up", Priority="Low", ActivityDate=date(2026, 2, 1)),
]
USERS = {
    USER: {"Id": USER, "Name": "SFPMS Integration", "Username": "admin@sfpms.local"},
    ALICE: {"Id": ALICE, "Name": "Alice Example", "Username": "alice@sfpms.local"},
}


def _lookup(record_id: str) -> tuple[str, Mapping[str, Any]] | None:
    return ("User", USERS[record_id]) if record_id in USERS else None


def run(soql: str, records: Sequence[Mapping[str, Any]] = TASKS) -> list[dict[str, Any]]:
    def records_of(obj: ObjectDef) -> Sequence[Mapping[str, Any]]:
        return records if obj.name == "Task" else list(USERS.values())

    result = execute(parse(soql), records_of, _lookup, lambda t, i: f"/sobjects/{t}/{i}")
    return result.records


def subjects(soql: str) -> list[str | None]:
    return [r["Subject"] for r in run(soql)]


def error_code(soql: str) -> str:
    with pytest.raises(SoqlError) as caught:
        run(soql)
    return caught.value.code


def test_text_equality_ignores_case() -> None:
    assert subjects("SELECT Subject FROM Task WHERE Subject = 'CALL ACME'") == ["Call Acme"]


def test_keywords_fields_and_object_names_are_case_insensitive() -> None:
    rows = run("select id, SUBJECT from task where priority = 'high'")
    assert [r["Subject"] for r in rows] == ["Call Acme"]
    assert set(rows[0]) == {"attributes", "Id", "Subject"}


def test_records_carry_type_and_url_attributes() -> None:
    row = run("SELECT Id FROM Task LIMIT 1")[0]
    assert row["attributes"] == {"type": "Task", "url": f"/sobjects/Task/{row['Id']}"}


def test_watermark_condition_selects_strictly_after_the_last_seen_record() -> None:
    last_id = TASKS[2]["Id"]
    soql = (
        "SELECT Id, SystemModstamp FROM Task WHERE SystemModstamp > 2026-01-10T12:00:01.000Z "
        f"OR (SystemModstamp = 2026-01-10T12:00:01.000Z AND Id > '{last_id}') "
        "ORDER BY SystemModstamp, Id"
    )
    assert [r["Id"] for r in run(soql)] == [TASKS[3]["Id"]]


def test_watermark_ordering_is_by_modstamp_then_id() -> None:
    rows = run("SELECT Id FROM Task ORDER BY SystemModstamp, Id")
    expected = sorted(TASKS, key=lambda r: (r["SystemModstamp"], r["Id"]))
    assert [r["Id"] for r in rows] == [r["Id"] for r in expected]


def test_datetime_literals_accept_offsets_and_no_milliseconds() -> None:
    soql = "SELECT Id FROM Task WHERE SystemModstamp >= 2026-01-10T13:00:01+01:00"
    assert len(run(soql)) == 2


def test_id_comparisons_accept_15_character_ids() -> None:
    id15 = TASKS[0]["Id"][:15]
    assert subjects(f"SELECT Subject FROM Task WHERE Id = '{id15}'") == ["Call Acme"]


def test_in_and_not_in() -> None:
    assert subjects(
        "SELECT Subject FROM Task WHERE Priority IN ('High', 'Low') ORDER BY Subject"
    ) == [
        "Call Acme",
        "O'Brien follow-up",
    ]
    assert len(run("SELECT Id FROM Task WHERE Priority NOT IN ('High', 'Low')")) == 3


def test_not_equal_and_not_in_match_nulls_like_soql() -> None:
    assert len(run("SELECT Id FROM Task WHERE Subject != 'Call Acme'")) == 4
    assert len(run("SELECT Id FROM Task WHERE Subject NOT IN ('Call Acme')")) == 4


def test_null_comparisons() -> None:
    assert len(run("SELECT Id FROM Task WHERE Subject = null")) == 1
    assert len(run("SELECT Id FROM Task WHERE ActivityDate != NULL")) == 2


def test_like_is_case_insensitive_and_honours_escaped_wildcards() -> None:
    assert subjects("SELECT Subject FROM Task WHERE Subject LIKE 'call%' ORDER BY Subject") == [
        "Call Acme",
        "call globex",
    ]
    assert subjects(r"SELECT Subject FROM Task WHERE Subject LIKE '%100\%'") == ["Send quote 100%"]
    assert subjects("SELECT Subject FROM Task WHERE Subject LIKE 'Call _cme'") == ["Call Acme"]


def test_string_escapes_in_literals() -> None:
    assert subjects(r"SELECT Subject FROM Task WHERE Subject = 'O\'Brien follow-up'") == [
        "O'Brien follow-up"
    ]


def test_not_and_parentheses() -> None:
    soql = "SELECT Subject FROM Task WHERE NOT (Priority = 'Normal' OR Status = 'Completed')"
    assert sorted(s or "" for s in subjects(soql)) == ["Call Acme", "O'Brien follow-up"]


def test_booleans_dates_and_numbers() -> None:
    assert subjects("SELECT Subject FROM Task WHERE IsClosed = true") == ["call globex"]
    assert subjects("SELECT Subject FROM Task WHERE ActivityDate < 2026-01-31") == ["Call Acme"]


def test_order_by_puts_nulls_first_by_default_and_last_on_request() -> None:
    assert subjects("SELECT Subject FROM Task ORDER BY Subject")[0] is None
    assert subjects("SELECT Subject FROM Task ORDER BY Subject DESC")[0] is None
    ordered = subjects("SELECT Subject FROM Task ORDER BY Subject DESC NULLS LAST")
    assert ordered[-1] is None
    assert ordered[0] == "Send quote 100%"


def test_order_by_text_ignores_case() -> None:
    ordered = subjects("SELECT Subject FROM Task WHERE Subject LIKE 'c%' ORDER BY Subject DESC")
    assert ordered == ["call globex", "Call Acme"]


def test_limit_and_offset() -> None:
    rows = run("SELECT Id FROM Task ORDER BY Id LIMIT 2 OFFSET 1")
    assert [r["Id"] for r in rows] == [TASKS[1]["Id"], TASKS[2]["Id"]]


def test_count_returns_total_without_records() -> None:
    result = execute(
        parse("SELECT COUNT() FROM Task WHERE Priority = 'Normal'"),
        lambda obj: TASKS,
        _lookup,
        lambda t, i: "",
    )
    assert (result.total_size, result.records) == (3, [])


def test_parent_relationship_fields_are_nested() -> None:
    rows = run("SELECT Id, Owner.Name FROM Task WHERE Owner.Name = 'alice example'")
    assert len(rows) == 1
    assert rows[0]["Owner"]["Name"] == "Alice Example"
    assert rows[0]["Owner"]["attributes"]["type"] == "User"


def test_relative_date_literals() -> None:
    today = datetime.now(UTC).date()
    records = [_task(1, ActivityDate=today), _task(2, ActivityDate=today - timedelta(days=3))]

    def count(where: str) -> int:
        return len(run(f"SELECT Id FROM Task WHERE {where}", records))

    assert count("ActivityDate = TODAY") == 1
    assert count("ActivityDate = LAST_N_DAYS:7") == 2
    assert count("ActivityDate < TODAY") == 1


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT Id FROM Task WHERE Subject = 'a' AND Priority = 'b' OR Status = 'c'",
        "SELECT Id Task",
        "SELECT FROM Task",
        "SELECT Id FROM Task WHERE",
        "SELECT Id FROM Task WHERE Subject = 'unterminated",
        "SELECT Id FROM Task LIMIT x",
        "SELECT Id FROM Task GROUP BY Subject",
        "SELECT Id FROM Task WHERE CreatedDate > 2026-01-01T00:00:00",
        "",
    ],
)
def test_unsupported_or_broken_soql_is_malformed_query(soql: str) -> None:
    assert error_code(soql) == "MALFORMED_QUERY"


def test_malformed_query_message_points_at_the_token() -> None:
    with pytest.raises(SoqlError) as caught:
        parse("SELECT Id FRM Task")
    assert "ERROR at Row:1:Column:11" in caught.value.message
    assert "unexpected token: FRM" in caught.value.message


def test_unknown_field_is_invalid_field() -> None:
    assert error_code("SELECT Bogus__c FROM Task") == "INVALID_FIELD"
    assert error_code("SELECT Id FROM Task WHERE Bogus = 'x'") == "INVALID_FIELD"
    assert error_code("SELECT Owner.Bogus FROM Task") == "INVALID_FIELD"


def test_unknown_object_is_invalid_type() -> None:
    assert error_code("SELECT Id FROM Widget__c") == "INVALID_TYPE"


def test_quoted_datetime_is_rejected_like_salesforce() -> None:
    assert error_code("SELECT Id FROM Task WHERE CreatedDate > '2026-01-01T00:00:00Z'") == (
        "INVALID_FIELD"
    )
    assert error_code("SELECT Id FROM Task WHERE CreatedDate > 2026-01-01") == "INVALID_FIELD"


def test_invalid_id_literal_is_rejected() -> None:
    assert error_code("SELECT Id FROM Task WHERE Id = 'nope'") == "INVALID_QUERY_FILTER_OPERATOR"


def test_duplicate_selected_field_is_rejected() -> None:
    assert error_code("SELECT Id, id FROM Task") == "DUPLICATE_FIELD"
