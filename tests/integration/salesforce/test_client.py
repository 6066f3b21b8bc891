"""`SalesforceClient` against the real emulator over HTTPS."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.salesforce import (
    RetryPolicy,
    SalesforceApiError,
    SalesforceClient,
    SalesforceRetriableError,
)
from foundation.errors import ConfigError, FatalError, RetriableError
from tests.integration.salesforce.support import RunningSalesforce

pytestmark = pytest.mark.integration

FAST = RetryPolicy(max_attempts=6, base_delay_s=0.01, max_delay_s=0.05)
DATA = ["/services/data"]
TOKEN = "POST /services/oauth2/token"


def client(
    sf: RunningSalesforce,
    retry: RetryPolicy = FAST,
    *,
    ambiguous_posts: bool = False,
    **settings: object,
) -> SalesforceClient:
    return SalesforceClient(
        sf.settings(**settings), retry=retry, retry_ambiguous_posts=ambiguous_posts
    )


def _count(sf: RunningSalesforce, route: str) -> int:
    return int(sf.admin("GET", "/stats")["requests"].get(route, 0))


async def test_identity_names_the_integration_user(sf: RunningSalesforce) -> None:
    async with client(sf) as salesforce:
        me = await salesforce.identity()
    assert me.username == "admin@sfpms.local"
    assert me.user_id.startswith("005") and me.org_id.startswith("00D")


async def test_client_credentials_grant_when_no_username(sf: RunningSalesforce) -> None:
    async with client(sf, salesforce_username=None, salesforce_password=None) as salesforce:
        me = await salesforce.identity()
    assert me.username == "admin@sfpms.local"


async def test_crud_round_trip(sf: RunningSalesforce) -> None:
    async with client(sf) as salesforce:
        task_id = await salesforce.create("Task", {"Subject": "client task"})
        await salesforce.update("Task", task_id, {"Priority": "High"})
        task = await salesforce.get("Task", task_id, fields=["Subject", "Priority"])
        assert task == {
            "attributes": {"type": "Task", "url": f"/services/data/v60.0/sobjects/Task/{task_id}"},
            "Subject": "client task",
            "Priority": "High",
        }
        await salesforce.delete("Task", task_id)
        assert await salesforce.get("Task", task_id) is None
        await salesforce.delete("Task", task_id, missing_ok=True)
        with pytest.raises(SalesforceApiError) as exc:
            await salesforce.delete("Task", task_id)
    assert exc.value.error_code == "ENTITY_IS_DELETED"


async def test_every_request_names_the_client_in_call_options(sf: RunningSalesforce) -> None:
    async with SalesforceClient(sf.settings(), client_name="sfpms-sink", retry=FAST) as named:
        await named.create("Task", {"Subject": "named"})
    async with client(sf) as default:
        await default.create("Task", {"Subject": "default"})
    changes = sf.admin("GET", "/changes", params={"sobject": "Task"})["changes"]
    origins = [c["changeOrigin"] for c in changes]
    assert origins == ["sfpms-sink", "sfpms"]


async def test_expired_token_is_refreshed_once_and_the_request_repeated(
    sf: RunningSalesforce,
) -> None:
    async with client(sf) as salesforce:
        assert await salesforce.count("SELECT COUNT() FROM Task") == 0
        sf.admin("POST", "/expire-tokens")
        results = await asyncio.gather(
            *(salesforce.count("SELECT COUNT() FROM Task") for _ in range(10))
        )
    assert results == [0] * 10
    assert _count(sf, TOKEN) == 2  # one login, one shared re-login


async def test_retries_through_injected_server_errors(sf: RunningSalesforce) -> None:
    async with client(sf) as salesforce:
        task_id = await salesforce.create("Task", {"Subject": "x"})
        sf.admin("POST", "/faults", json={"error_rate": 0.5, "seed": 7, "path_prefixes": DATA})
        for n in range(10):
            await salesforce.update("Task", task_id, {"Description": f"v{n}"})
            assert (await salesforce.get("Task", task_id))["Description"] == f"v{n}"  # type: ignore[index]
    assert sf.admin("GET", "/faults")["injected"]["error"] > 0


async def test_rate_limits_are_retried_after_the_retry_after_delay(sf: RunningSalesforce) -> None:
    policy = RetryPolicy(max_attempts=2, base_delay_s=0.01, max_delay_s=0.05)
    async with client(sf, retry=policy) as salesforce:
        await salesforce.identity()
        sf.admin(
            "POST",
            "/faults",
            json={"rate_limit_rate": 1.0, "retry_after_s": 1, "path_prefixes": DATA},
        )
        started = time.monotonic()
        with pytest.raises(SalesforceRetriableError) as exc:
            await salesforce.count("SELECT COUNT() FROM Task")
        elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 3.0
    assert isinstance(exc.value, RetriableError)
    assert exc.value.retry_after == 1.0 and exc.value.status == 429


async def test_long_retry_after_is_handed_to_the_caller_at_once(sf: RunningSalesforce) -> None:
    async with client(sf) as salesforce:
        await salesforce.identity()
        sf.admin(
            "POST",
            "/faults",
            json={"rate_limit_rate": 1.0, "retry_after_s": 120, "path_prefixes": DATA},
        )
        started = time.monotonic()
        with pytest.raises(SalesforceRetriableError) as exc:
            await salesforce.limits()
    assert time.monotonic() - started < 1.0
    assert exc.value.retry_after == 120.0


async def test_throttling_that_clears_is_invisible_to_the_caller(sf: RunningSalesforce) -> None:
    async with client(sf) as salesforce:
        await salesforce.identity()
        faults = {"rate_limit_rate": 0.5, "retry_after_s": 0, "seed": 3, "path_prefixes": DATA}
        sf.admin("POST", "/faults", json=faults)
        counts = [await salesforce.count("SELECT COUNT() FROM Task") for _ in range(8)]
    assert counts == [0] * 8
    assert sf.admin("GET", "/faults")["injected"]["rate_limit"] > 0


async def test_dropped_connections_are_retried_for_idempotent_requests(
    sf: RunningSalesforce,
) -> None:
    async with client(sf) as salesforce:
        task_id = await salesforce.create("Task", {"Subject": "x"})
        sf.admin("POST", "/faults", json={"drop_rate": 0.4, "seed": 5, "path_prefixes": DATA})
        for n in range(6):
            await salesforce.update("Task", task_id, {"Subject": f"s{n}"})
            upserted = await salesforce.upsert("Task", "Custompms_Id__c", f"c{n}", {"Subject": "u"})
            assert upserted[1] is True
        rows = [r async for r in salesforce.query("SELECT Id FROM Task")]
    assert len(rows) == 7
    assert sf.admin("GET", "/faults")["injected"]["drop"] > 0


async def test_dropped_create_is_not_repeated_so_nothing_is_duplicated(
    sf: RunningSalesforce,
) -> None:
    async with client(sf) as salesforce:
        await salesforce.identity()
        sf.admin("POST", "/faults", json={"drop_rate": 1.0, "path_prefixes": DATA})
        with pytest.raises(SalesforceRetriableError) as exc:
            await salesforce.create("Task", {"Subject": "maybe"})
        sf.admin("DELETE", "/faults")
        assert await salesforce.count("SELECT COUNT() FROM Task") == 0
    assert "may or may not have been applied" in str(exc.value)
    assert exc.value.record == "Task (new)"


async def test_creates_may_opt_into_retrying_after_drops(sf: RunningSalesforce) -> None:
    policy = RetryPolicy(max_attempts=8, base_delay_s=0.01, max_delay_s=0.05)
    async with client(sf, retry=policy, ambiguous_posts=True) as salesforce:
        await salesforce.identity()
        sf.admin("POST", "/faults", json={"drop_rate": 0.5, "seed": 11, "path_prefixes": DATA})
        ids = [await salesforce.create("Task", {"Subject": str(n)}) for n in range(4)]
    assert len(set(ids)) == 4


async def test_fatal_error_names_record_error_code_and_field(sf: RunningSalesforce) -> None:
    async with client(sf) as salesforce:
        task_id = await salesforce.create("Task", {"Subject": "x"})
        with pytest.raises(SalesforceApiError) as exc:
            await salesforce.update("Task", task_id, {"Status": "Someday"})
    error = exc.value
    assert isinstance(error, FatalError)
    assert error.error_code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert error.fields == ("Status",) and error.field == "Status"
    assert error.record == f"Task/{task_id}"
    assert f"Task/{task_id}" in str(error) and "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" in str(
        error
    )


async def test_query_follows_next_records_url_across_pages(sf: RunningSalesforce) -> None:
    sf.bulk("Task", [{"Subject": f"p{n:04d}"} for n in range(2300)])
    sf.admin("DELETE", "/stats")
    async with client(sf) as salesforce:
        rows = [r async for r in salesforce.query("SELECT Subject FROM Task ORDER BY Subject")]
        first = await salesforce.get("Task", "00T5e0000000001")
        assert first is not None
        await salesforce.delete("Task", first["Id"])
        everything = [r async for r in salesforce.query_all("SELECT Id, IsDeleted FROM Task")]
    assert [r["Subject"] for r in rows] == [f"p{n:04d}" for n in range(2300)]
    assert len(everything) == 2300 and sum(r["IsDeleted"] for r in everything) == 1
    assert _count(sf, "GET /services/data/{version}/query/{cursor}") == 1
    assert _count(sf, "GET /services/data/{version}/queryAll/{cursor}") == 1


async def test_collections_are_chunked_by_200(sf: RunningSalesforce) -> None:
    sf.admin("DELETE", "/stats")
    async with client(sf) as salesforce:
        created = await salesforce.collections_create(
            [{"Subject": f"c{n}"} for n in range(450)], sobject="Task"
        )
        ids = [r.id for r in created if r.id]
        updated = await salesforce.collections_update(
            [{"Id": i, "Priority": "Low"} for i in ids], sobject="Task"
        )
        deleted = await salesforce.collections_delete(ids)
        remaining = await salesforce.count("SELECT COUNT() FROM Task")
    assert len(ids) == 450 and all(r.success for r in created + updated + deleted)
    assert remaining == 0
    requests = sf.admin("GET", "/stats")["requests"]
    assert requests["POST /services/data/{version}/composite/sobjects"] == 3
    assert requests["PATCH /services/data/{version}/composite/sobjects"] == 3
    assert requests["DELETE /services/data/{version}/composite/sobjects"] == 3


async def test_collections_report_each_record_and_honour_all_or_none(
    sf: RunningSalesforce,
) -> None:
    records = [{"Subject": "ok"}, {"Subject": "x" * 300}]
    async with client(sf) as salesforce:
        partial = await salesforce.collections_create(records, sobject="Task")
        atomic = await salesforce.collections_create(records, all_or_none=True, sobject="Task")
        count = await salesforce.count("SELECT COUNT() FROM Task")
    assert [r.success for r in partial] == [True, False]
    assert partial[1].errors[0].code == "STRING_TOO_LONG"
    assert partial[1].errors[0].fields == ("Subject",)
    assert [r.errors[0].code for r in atomic] == [
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "STRING_TOO_LONG",
    ]
    assert count == 1


async def test_upsert_reports_created_then_updated_and_refuses_ambiguity(
    sf: RunningSalesforce,
) -> None:
    async with client(sf) as salesforce:
        first = await salesforce.upsert("Task", "Custompms_Id__c", "cpm/1 x", {"Subject": "a"})
        second = await salesforce.upsert("Task", "Custompms_Id__c", "cpm/1 x", {"Subject": "b"})
        await salesforce.create("Task", {"Subject": "twin", "Custompms_Id__c": "cpm/1 x"})
        with pytest.raises(SalesforceApiError) as exc:
            await salesforce.upsert("Task", "Custompms_Id__c", "cpm/1 x", {"Subject": "c"})
    assert first[1] is True and second == (first[0], False)
    assert exc.value.error_code == "MULTIPLE_CHOICES" and exc.value.status == 300


async def test_replication_results_are_typed(sf: RunningSalesforce) -> None:
    start = datetime.now(UTC) - timedelta(minutes=5)
    end = datetime.now(UTC) + timedelta(minutes=5)
    async with client(sf) as salesforce:
        kept = await salesforce.create("Task", {"Subject": "kept"})
        gone = await salesforce.create("Task", {"Subject": "gone"})
        await salesforce.delete("Task", gone)
        updated = await salesforce.updated("Task", start, end)
        deleted = await salesforce.deleted("Task", start, end)
    assert updated.ids == (kept,)
    assert updated.latest_date_covered <= end
    assert [d.id for d in deleted.records] == [gone]
    assert deleted.earliest_date_available is not None
    assert deleted.earliest_date_available < start


async def test_describe_and_limits(sf: RunningSalesforce) -> None:
    async with client(sf) as salesforce:
        described = await salesforce.describe("Division")
        limits = await salesforce.limits()
    assert {f["name"] for f in described["fields"]} >= {"Name", "IsActive", "IsGlobalDivision"}
    assert limits["DailyApiRequests"]["Max"] == 100_000


async def test_api_usage_is_tracked_and_warned_about_above_80_percent(
    sf: RunningSalesforce, caplog: pytest.LogCaptureFixture
) -> None:
    async with client(sf) as salesforce:
        await salesforce.limits()
        assert salesforce.api_usage == (1, 100_000)
        sf.admin("POST", "/limits", json={"used": 85_000})
        with caplog.at_level(logging.WARNING, logger="connectors.salesforce"):
            await salesforce.limits()
        used, limit = salesforce.api_usage
    assert (used, limit) == (85_001, 100_000)
    assert any("85001/100000" in r.getMessage() for r in caplog.records)


async def test_exhausted_daily_limit_is_retriable_later(sf: RunningSalesforce) -> None:
    async with client(sf) as salesforce:
        await salesforce.identity()
        sf.admin("POST", "/limits", json={"used": 100_000})
        with pytest.raises(SalesforceRetriableError) as exc:
            await salesforce.count("SELECT COUNT() FROM Task")
    assert exc.value.error_code == "REQUEST_LIMIT_EXCEEDED" and exc.value.retry_after


async def test_bad_password_is_config_error_without_the_secret(sf: RunningSalesforce) -> None:
    async with client(sf, salesforce_password="hunter2-very-secret") as salesforce:
        with pytest.raises(ConfigError) as exc:
            await salesforce.identity()
    text = f"{exc.value} {exc.value.args} {exc.value.__cause__}"
    assert "hunter2-very-secret" not in text
    assert "invalid_grant" in text and "SFPMS_SALESFORCE_PASSWORD" in text


async def test_errors_never_contain_the_token_or_client_secret(sf: RunningSalesforce) -> None:
    async with client(sf) as salesforce:
        await salesforce.identity()
        token = salesforce._session._token
        assert token
        raised: list[BaseException] = []
        with pytest.raises(SalesforceApiError) as fatal:
            await salesforce.create("Task", {"Nope__c": 1})
        raised.append(fatal.value)
        sf.admin("POST", "/faults", json={"error_rate": 1.0, "path_prefixes": DATA})
        with pytest.raises(SalesforceRetriableError) as retriable:
            await salesforce.limits()
        raised.append(retriable.value)
        sf.admin("POST", "/faults", json={"drop_rate": 1.0, "path_prefixes": DATA})
        with pytest.raises(SalesforceRetriableError) as dropped:
            await salesforce.create("Task", {"Subject": "x"})
        raised.append(dropped.value)
    for error in raised:
        chain = [error, error.__cause__, error.__context__]
        text = " ".join(f"{e!s} {e!r}" for e in chain if e is not None)
        assert token not in text and "sfpms-local-secret" not in text


async def test_missing_certificate_bundle_is_config_error(
    sf: RunningSalesforce, tmp_path: Path
) -> None:
    async with client(sf, salesforce_ca_bundle=tmp_path / "missing.pem") as salesforce:
        with pytest.raises(ConfigError) as exc:
            await salesforce.identity()
    assert "SFPMS_SALESFORCE_CA_BUNDLE" in str(exc.value)
