from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from emulators.salesforce.timefmt import format_datetime
from tests.integration.salesforce.support import RunningSalesforce

pytestmark = pytest.mark.integration


def _window(sf: RunningSalesforce, kind: str, start: datetime, end: datetime) -> tuple[int, object]:
    response = sf.api(
        "GET",
        f"/sobjects/Task/{kind}/",
        sf.token(),
        params={"start": start.isoformat(), "end": end.isoformat()},
    )
    return response.status_code, response.json()


def _minute() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)


def test_updated_returns_only_records_changed_inside_the_window(sf: RunningSalesforce) -> None:
    base = _minute() - timedelta(hours=2)
    old, inside = sf.bulk(
        "Task",
        [
            {"Subject": "old", "SystemModstamp": format_datetime(base - timedelta(days=2))},
            {"Subject": "in", "SystemModstamp": format_datetime(base + timedelta(seconds=10))},
        ],
    )
    # The API ignores seconds: 12:00:45 means 12:00:00, so the record at 12:00:10 is inside.
    status, body = _window(sf, "updated", base + timedelta(seconds=45), base + timedelta(hours=1))
    assert status == 200
    assert body == {
        "ids": [inside],
        "latestDateCovered": format_datetime(base + timedelta(hours=1)),
    }
    assert old not in body["ids"]


def test_updated_refuses_start_after_end_and_starts_beyond_30_days(sf: RunningSalesforce) -> None:
    now = _minute()
    backwards = _window(sf, "updated", now, now - timedelta(hours=1))
    too_old = _window(sf, "updated", now - timedelta(days=31), now)
    for status, body in (backwards, too_old):
        assert status == 400
        assert body[0]["errorCode"] == "INVALID_REPLICATION_DATE"  # type: ignore[index]


def test_deleted_window_rules(sf: RunningSalesforce) -> None:
    now = _minute()
    assert _window(sf, "deleted", now - timedelta(days=16), now)[0] == 400
    assert _window(sf, "deleted", now - timedelta(minutes=1), now)[0] == 400
    status, body = _window(sf, "deleted", now - timedelta(days=14), now)
    assert status == 200
    assert body["deletedRecords"] == []  # type: ignore[index]


def test_deleted_lists_deletions_with_their_date(sf: RunningSalesforce) -> None:
    token = sf.token()
    task_id = sf.api("POST", "/sobjects/Task", token, json={"Subject": "bye"}).json()["id"]
    sf.api("DELETE", f"/sobjects/Task/{task_id}", token)
    stamp = sf.api(
        "GET",
        "/queryAll",
        token,
        params={"q": f"SELECT SystemModstamp FROM Task WHERE Id = '{task_id}'"},  # noqa: S608
    ).json()["records"][0]["SystemModstamp"]
    status, body = _window(
        sf, "deleted", _minute() - timedelta(hours=1), _minute() + timedelta(hours=1)
    )
    assert status == 200
    assert body["deletedRecords"] == [{"id": task_id, "deletedDate": stamp}]  # type: ignore[index]


def test_purged_recycle_bin_makes_older_windows_unavailable(sf: RunningSalesforce) -> None:
    token = sf.token()
    task_id = sf.api("POST", "/sobjects/Task", token, json={"Subject": "bye"}).json()["id"]
    sf.api("DELETE", f"/sobjects/Task/{task_id}", token)
    assert sf.admin("POST", "/purge-deleted") == {"purged": 1}
    status, body = _window(
        sf, "deleted", _minute() - timedelta(hours=1), _minute() + timedelta(hours=1)
    )
    assert status == 400
    assert body[0]["errorCode"] == "INVALID_REPLICATION_DATE"  # type: ignore[index]
    everything = sf.api("GET", "/queryAll", token, params={"q": "SELECT COUNT() FROM Task"}).json()
    assert everything["totalSize"] == 0
