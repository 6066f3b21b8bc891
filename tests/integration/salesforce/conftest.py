from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from tests.integration.salesforce.pubsub_support import RunningPubSub, running_pubsub
from tests.integration.salesforce.support import RunningSalesforce, running_salesforce


@pytest.fixture(scope="session")
def cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("salesforce-tls")


@pytest.fixture
def sf(cert_dir: Path) -> Iterator[RunningSalesforce]:
    """A fresh, unseeded, in-memory emulator over HTTPS for one test."""
    with running_salesforce(cert_dir) as running:
        yield running


@pytest.fixture
def start_sf(cert_dir: Path) -> Callable[..., AbstractContextManager[RunningSalesforce]]:
    """Start an emulator with a custom configuration: `with start_sf(token_ttl_s=1) as sf`."""

    def start(**config: Any) -> AbstractContextManager[RunningSalesforce]:
        return running_salesforce(cert_dir, **config)

    return start


@pytest.fixture
def sfps(cert_dir: Path) -> Iterator[RunningPubSub]:
    """An unseeded emulator serving REST and the Pub/Sub API over TLS on free ports."""
    with running_pubsub(cert_dir) as running:
        yield running


@pytest.fixture
def start_sfps(cert_dir: Path) -> Callable[..., AbstractContextManager[RunningPubSub]]:
    """Start a Pub/Sub-serving emulator with a custom configuration."""

    def start(**config: Any) -> AbstractContextManager[RunningPubSub]:
        return running_pubsub(cert_dir, **config)

    return start
