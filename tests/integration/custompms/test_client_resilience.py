"""CustompmsClient through injected faults: retries, Retry-After, drops, timeouts, secrets."""

from __future__ import annotations

import logging
import random
import time
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connectors.custompms import (
    BatchOperation,
    CustompmsClient,
    CustompmsRetriableError,
    RetryPolicy,
)
from connectors.custompms.errors import CustompmsAuthError
from foundation.errors import FatalError, RetriableError, SyncError
from tests.integration.custompms.support import RunningEmulator

pytestmark = pytest.mark.integration

FAST = RetryPolicy(max_attempts=8, base_delay_s=0.01, max_delay_s=0.05)


def client_for(
    emulator: RunningEmulator, *, retry: RetryPolicy = FAST, **options: Any
) -> CustompmsClient:
    """A client of `emulator` with fast, seeded retries."""
    return CustompmsClient(emulator.settings(), retry=retry, rng=random.Random(1), **options)


async def test_injected_server_errors_are_retried_until_the_call_succeeds(
    emulator: RunningEmulator,
) -> None:
    emulator.set_faults(error_rate=0.5, error_status=503, seed=3)
    async with client_for(emulator) as client:
        created = [await client.create("customers", {"name": f"C{i}"}) for i in range(10)]
        fetched = [await client.get("customers", c["id"]) for c in created]
    emulator.clear_faults()

    assert fetched == created
    stats = emulator.stats()
    assert stats["statuses"]["503"] > 0
    assert stats["total"] == 20 + stats["statuses"]["503"]


async def test_rate_limits_are_retried_after_the_servers_retry_after(
    emulator: RunningEmulator,
) -> None:
    emulator.set_faults(rate_limit_rate=0.2, retry_after_s=1, seed=9)
    started = time.monotonic()
    async with client_for(emulator) as client:
        created = [await client.create("customers", {"name": f"C{i}"}) for i in range(3)]
    elapsed = time.monotonic() - started
    limited = emulator.admin("GET", "/faults")["injected"]["rate_limit"]
    emulator.clear_faults()

    assert len({c["id"] for c in created}) == 3
    assert limited >= 1
    assert elapsed >= limited * 1.0


async def test_dropped_connections_are_retried_without_creating_twice(
    emulator: RunningEmulator,
) -> None:
    emulator.set_faults(drop_rate=0.4, seed=11)
    async with client_for(emulator) as client:
        for i in range(12):
            await client.create("customers", {"name": f"C{i}"})
        results = await client.batch(
            "customers", [BatchOperation.create({"name": f"B{i}"}) for i in range(30)]
        )
        dropped = emulator.admin("GET", "/faults")["injected"]["drop"]
        emulator.clear_faults()
        names = [r["name"] async for r in client.list("customers", limit=1000)]

    assert dropped >= 1
    assert all(r.status == 201 for r in results)
    assert sorted(names) == sorted([f"C{i}" for i in range(12)] + [f"B{i}" for i in range(30)])


async def test_persistent_failures_end_in_a_retriable_error_after_bounded_attempts(
    emulator: RunningEmulator,
) -> None:
    emulator.set_faults(error_rate=1.0, error_status=500)
    policy = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.02)
    async with client_for(emulator, retry=policy) as client:
        with pytest.raises(CustompmsRetriableError) as caught:
            await client.get("tasks", "tsk_000001")

    assert isinstance(caught.value, RetriableError)
    assert caught.value.status == 500 and caught.value.record == "tasks/tsk_000001"
    assert emulator.stats()["total"] == 3


async def test_a_retry_after_beyond_the_limit_is_handed_to_the_caller_at_once(
    emulator: RunningEmulator,
) -> None:
    emulator.set_faults(rate_limit_rate=1.0, retry_after_s=120)
    async with client_for(emulator, retry=RetryPolicy(max_retry_after_s=30)) as client:
        with pytest.raises(CustompmsRetriableError) as caught:
            await client.changes()
    assert caught.value.retry_after == 120
    assert emulator.stats()["total"] == 1


async def test_timeouts_are_retried_then_reported_as_retriable(emulator: RunningEmulator) -> None:
    emulator.set_faults(latency_ms=400)
    policy = RetryPolicy(max_attempts=2, base_delay_s=0.01)
    async with client_for(emulator, retry=policy, timeout=0.1) as client:
        with pytest.raises(CustompmsRetriableError) as caught:
            await client.get("customers", "cus_000001")
    assert "timed out" in str(caught.value)


async def test_the_token_never_appears_in_errors_or_logs(
    emulator: RunningEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cr3t-token-value-4711"
    wrong = "wr0ng-token-value-0815"
    emulator.add_token(secret, "alice")
    caplog.set_level(logging.DEBUG)
    errors: list[SyncError] = []

    async with client_for(emulator, token=SecretStr(secret)) as client:
        emulator.set_faults(error_rate=0.5, drop_rate=0.2, seed=2)
        project = await client.create("projects", {"name": "P"})
        emulator.clear_faults()
        with pytest.raises(FatalError) as invalid:
            await client.update("projects", project["id"], {"due_date": "someday"})
        errors.append(invalid.value)
        emulator.set_faults(error_rate=1.0)
        with pytest.raises(RetriableError) as unavailable:
            await client.get("projects", project["id"])
        errors.append(unavailable.value)
        emulator.clear_faults()
    async with client_for(emulator, token=SecretStr(wrong)) as client:
        with pytest.raises(CustompmsAuthError) as rejected:
            await client.get("projects", project["id"])
        errors.append(rejected.value)

    assert "retrying" in caplog.text
    texts = [caplog.text] + [f"{e} {e!r} {e.__cause__!s} {e.__cause__!r}" for e in errors]
    for text in texts:
        assert secret not in text and wrong not in text


class LoseFirstPostResponse(httpx.AsyncBaseTransport):
    """A real transport whose first POST reaches the server but whose response is lost."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and not self.lost:
            await response.aread()
            await response.aclose()
            self.lost += 1
            raise httpx.ReadError("response lost on the way back", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.parametrize("via_batch", [False, True], ids=["create", "batch"])
async def test_a_create_whose_response_was_lost_is_retried_without_a_duplicate(
    emulator: RunningEmulator, via_batch: bool
) -> None:
    transport = LoseFirstPostResponse()
    async with client_for(emulator, transport=transport) as client:
        if via_batch:
            results = await client.batch("customers", [BatchOperation.create({"name": "Acme"})])
            record = results[0].record
        else:
            record = await client.create("customers", {"name": "Acme"})
        listed = [r async for r in client.list("customers")]
        feed = await client.changes()

    assert transport.lost == 1
    assert record is not None and listed == [record]
    assert [c.op for c in feed.changes] == ["create"]
