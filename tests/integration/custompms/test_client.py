"""CustompmsClient against a real emulator: CRUD, paging, batches, feed and typed errors."""

from __future__ import annotations

import pytest

from connectors.custompms import (
    BatchOperation,
    CustompmsClient,
    CustompmsFatalError,
    NotFoundError,
    VersionMismatchError,
    item_error,
)
from connectors.custompms.errors import CustompmsAuthError
from foundation.errors import FatalError
from tests.integration.custompms.support import RunningEmulator

pytestmark = pytest.mark.integration


async def test_client_creates_reads_updates_and_deletes_records(emulator: RunningEmulator) -> None:
    async with CustompmsClient(emulator.settings()) as client:
        customer = await client.create("customers", {"name": "Acme", "address": {"city": "Oslo"}})
        project = await client.create("projects", {"name": "P", "customer_id": customer["id"]})
        updated = await client.update(
            "projects", project["id"], {"status": "active"}, if_match=project["version"]
        )
        fetched = await client.get("projects", project["id"])
        deleted = await client.delete("projects", project["id"], if_match=updated["version"])
        again = await client.delete("projects", project["id"], missing_ok=True)

    assert customer["id"].startswith("cus_") and customer["address"]["city"] == "Oslo"
    assert (updated["version"], updated["status"]) == (2, "active")
    assert fetched == updated
    assert (deleted, again) == (True, False)


async def test_client_lists_every_page_and_filters(emulator: RunningEmulator) -> None:
    async with CustompmsClient(emulator.settings()) as client:
        await client.batch(
            "customers", [BatchOperation.create({"name": f"C{i:03d}"}) for i in range(250)]
        )
        emulator.reset_stats()
        listed = [record["name"] async for record in client.list("customers", limit=100)]
        pages = emulator.stats()["requests"]["GET /api/v1/customers"]
        since = [r async for r in client.list("customers", updated_since="2000-01-01T00:00:00Z")]
        matches = await client.find_customers_by_name("  c007 ")

    assert listed == [f"C{i:03d}" for i in range(250)]
    assert pages == 3
    assert len(since) == 250
    assert [r["name"] for r in matches] == ["C007"]


async def test_client_batches_are_chunked_by_100_with_results_in_caller_order(
    emulator: RunningEmulator,
) -> None:
    operations = [BatchOperation.create({"name": f"C{i}"}) for i in range(230)]
    operations[150] = BatchOperation.create({"name": ""})
    operations.append(BatchOperation.update("cus_000001", {"notes": "first"}, if_match=1))
    operations.append(BatchOperation.delete("cus_000999"))

    async with CustompmsClient(emulator.settings()) as client:
        emulator.reset_stats()
        results = await client.batch("customers", operations)

    assert emulator.stats()["requests"]["POST /api/v1/customers/batch"] == 3
    assert [r.index for r in results] == list(range(232))
    assert [r.operation.data for r in results] == [op.data for op in operations]
    assert all(r.operation.idempotency_key for r in results[:230])
    assert sum(r.status == 201 for r in results) == 229
    assert results[150].status == 422 and results[150].error is not None
    assert results[150].error.field == "name"
    assert results[230].record is not None and results[230].record["notes"] == "first"
    assert results[231].status == 404
    error = item_error("customers", results[231])
    assert isinstance(error, NotFoundError) and error.record == "customers/cus_000999"
    assert item_error("customers", results[0]) is None


async def test_client_reads_the_change_feed_as_typed_pages(emulator: RunningEmulator) -> None:
    async with CustompmsClient(emulator.settings()) as client:
        created = await client.create("customers", {"name": "Acme"})
        await client.update("customers", created["id"], {"notes": "x"})
        first = await client.changes(after=0, limit=1)
        rest = await client.changes(after=first.next)
        idle = await client.changes(after=rest.next)

    assert [(c.seq, c.op, c.actor) for c in first.changes + rest.changes] == [
        (1, "create", "sfpms"),
        (2, "update", "sfpms"),
    ]
    assert rest.changes[0].record["notes"] == "x" and rest.changes[0].version == 2
    assert idle.changes == () and idle.next == 2


async def test_a_422_is_a_fatal_error_naming_the_field_code_and_record(
    emulator: RunningEmulator,
) -> None:
    async with CustompmsClient(emulator.settings()) as client:
        project = await client.create("projects", {"name": "P"})
        task = await client.create("tasks", {"project_id": project["id"], "title": "T"})
        with pytest.raises(CustompmsFatalError) as caught:
            await client.update("tasks", task["id"], {"status": "finished"})

    error = caught.value
    assert isinstance(error, FatalError)
    assert (error.status, error.code, error.field) == (422, "invalid_choice", "status")
    assert (error.resource, error.record_id) == ("tasks", task["id"])
    assert f"tasks/{task['id']}" in str(error) and "field status" in str(error)


async def test_missing_records_and_stale_versions_raise_their_own_fatal_errors(
    emulator: RunningEmulator,
) -> None:
    async with CustompmsClient(emulator.settings()) as client:
        created = await client.create("customers", {"name": "Acme"})
        await client.update("customers", created["id"], {"notes": "v2"})
        with pytest.raises(VersionMismatchError) as stale:
            await client.update("customers", created["id"], {"notes": "v3"}, if_match=1)
        with pytest.raises(NotFoundError) as missing:
            await client.get("customers", "cus_000404")

    assert stale.value.code == "version_mismatch" and stale.value.status == 412
    assert missing.value.record == "customers/cus_000404"


async def test_a_rejected_token_is_an_auth_error_sent_once_and_reported(
    emulator: RunningEmulator,
) -> None:
    from pydantic import SecretStr

    from foundation import metrics

    async with CustompmsClient(emulator.settings(), token=SecretStr("nope-nope")) as client:
        with pytest.raises(CustompmsAuthError) as caught:
            await client.get("customers", "cus_000001")
        refused = metrics.CREDENTIALS_REFUSED.labels("custompms")._value.get()
    assert "SFPMS_CUSTOMPMS_TOKEN" in str(caught.value)
    assert emulator.stats()["total"] == 1  # the caller retries it, on its own schedule
    assert refused == 1
