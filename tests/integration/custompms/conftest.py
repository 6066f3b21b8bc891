from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.integration.custompms.support import RunningEmulator, running_emulator


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A fresh, empty, in-memory emulator served on 127.0.0.1 for one test."""
    with running_emulator() as running:
        yield running


@pytest.fixture
def api(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    """An HTTP client of the emulator's /api/v1 with the sync's token."""
    with emulator.http() as client:
        yield client
