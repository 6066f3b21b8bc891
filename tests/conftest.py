"""Session fixtures: one real broker per test session, fresh settings per test.

The broker is started from its PyPI wheel on a free 127.0.0.1 port (engine from
SFPMS_TEST_BROKER, default noida-db) or taken from SFPMS_KAFKA_BOOTSTRAP. If it cannot start
the session fails loudly: integration tests never skip for a missing broker.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from foundation.settings import Settings
from sfpms.embedded.broker import EmbeddedBroker, free_port
from tests.support.harness import HarnessSettings, unique_prefix


@pytest.fixture(scope="session")
def harness() -> HarnessSettings:
    return HarnessSettings()


@pytest.fixture(scope="session")
def kafka_bootstrap(
    harness: HarnessSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """host:port of a real Kafka-protocol broker for this session."""
    if harness.kafka_bootstrap:
        yield harness.kafka_bootstrap
        return
    data_dir = tmp_path_factory.mktemp("broker")
    broker = EmbeddedBroker(
        engine=harness.test_broker,
        port=free_port(),
        data_dir=data_dir / "data",
        log_path=data_dir / "broker.log",
    )
    try:
        broker.start(timeout=60)
    except Exception as exc:
        log = broker.log_path.read_text(errors="replace")[-2000:] if broker.log_path else ""
        pytest.fail(
            f"could not start the {harness.test_broker} broker: {exc}\n{log}", pytrace=False
        )
    yield broker.bootstrap
    # Producers the tests dropped are destroyed while the broker still answers, so
    # librdkafka does not print a reconnect error per producer once it is gone.
    import gc

    gc.collect()
    broker.stop()


@pytest.fixture
def settings(kafka_bootstrap: str, harness: HarnessSettings, tmp_path: Path) -> Settings:
    """Settings for one test: the session broker, a unique topic prefix, a private data dir."""
    return Settings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=unique_prefix(),
        partitions=4,
        data_dir=tmp_path / "sfpms",
        broker_engine=harness.test_broker,
    )
