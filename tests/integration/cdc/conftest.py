from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from foundation.kafka import topics as t
from foundation.kafka.admin import ensure_topics
from foundation.settings import Settings
from tests.integration.cdc.support import Stack, running_emulators
from tests.support.stack import with_registry


@pytest.fixture(scope="session")
def cdc_cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cdc-salesforce-tls")


@pytest.fixture
def stack(settings: Settings, cdc_cert_dir: Path) -> Iterator[Stack]:
    """Fresh emulators, the session broker with this test's topics, an embedded registry."""
    ensure_topics(settings, t.catalogue())
    with with_registry(settings) as registered, running_emulators(cdc_cert_dir) as (sf, pms):
        configured = registered.model_copy(
            update={
                "salesforce_url": sf.server.url,
                "salesforce_ca_bundle": sf.cert,
                "salesforce_pubsub_endpoint": sf.pubsub_endpoint,
                "custompms_url": pms.server.url,
            }
        )
        yield Stack(configured, sf, pms)


@pytest.fixture
def make_stack(
    settings: Settings, cdc_cert_dir: Path
) -> Callable[..., AbstractContextManager[Stack]]:
    """Like `stack`, with Salesforce emulator settings of the test's own (e.g. a short event
    retention or a small API limit)."""

    @contextmanager
    def make(**sf_config: Any) -> Iterator[Stack]:
        ensure_topics(settings, t.catalogue())
        with (
            with_registry(settings) as registered,
            running_emulators(cdc_cert_dir, **sf_config) as (sf, pms),
        ):
            configured = registered.model_copy(
                update={
                    "salesforce_url": sf.server.url,
                    "salesforce_ca_bundle": sf.cert,
                    "salesforce_pubsub_endpoint": sf.pubsub_endpoint,
                    "custompms_url": pms.server.url,
                }
            )
            yield Stack(configured, sf, pms)

    return make
