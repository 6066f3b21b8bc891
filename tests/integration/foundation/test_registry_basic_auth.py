"""`sfpms registry` requires HTTP basic auth; the embedded stack's clients find the
credentials it generated, and confluent-kafka's own client is refused without them."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from foundation.kafka.serde import registry_client
from foundation.settings import Settings, settings_env
from sfpms.embedded.broker import free_port, port_open
from sfpms.embedded.process import ManagedProcess, wait_until

pytestmark = pytest.mark.integration

SCHEMA = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "string"}]})


@pytest.fixture
def embedded(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """`sfpms registry` as `sfpms up` starts it: no credentials configured."""
    configured = settings.model_copy(update={"registry_port": free_port()})
    process = ManagedProcess(
        "registry",
        [sys.executable, "-m", "sfpms", "registry"],
        log_path=tmp_path / "registry.log",
        env={**os.environ, **settings_env(configured)},
    )
    process.start()
    try:
        wait_until(
            lambda: port_open(configured.registry_port) or not process.alive(),
            timeout=60,
            what="the registry",
        )
        assert process.alive(), (tmp_path / "registry.log").read_text()
        yield configured
    finally:
        process.stop(grace=5)


def test_without_credentials_nobody_can_lower_compatibility_or_delete_a_subject(
    embedded: Settings,
) -> None:
    client = registry_client(embedded)  # the stack's own client: local credentials
    client.register_schema("s-value", Schema(SCHEMA, "AVRO"))
    base = embedded.registry_url()
    lowered = httpx.put(f"{base}/config", json={"compatibility": "NONE"})
    deleted = httpx.delete(f"{base}/subjects/s-value")
    assert (lowered.status_code, deleted.status_code) == (401, 401)
    assert lowered.json() == {"error_code": 401, "message": "Unauthorized"}
    assert lowered.headers["www-authenticate"].startswith("Basic realm=")
    assert client.get_compatibility() == "BACKWARD"
    assert client.get_subjects() == ["s-value"]


def test_confluents_client_without_credentials_is_refused_with_401(embedded: Settings) -> None:
    anonymous = SchemaRegistryClient({"url": embedded.registry_url()})
    with pytest.raises(SchemaRegistryError) as refused:
        anonymous.register_schema("t-value", Schema(SCHEMA, "AVRO"))
    assert refused.value.http_status_code == 401
    assert refused.value.error_code == 401


def test_credentials_configured_for_the_registry_are_the_ones_it_accepts(
    settings: Settings, tmp_path: Path
) -> None:
    from pydantic import SecretStr

    configured = settings.model_copy(
        update={
            "registry_port": free_port(),
            "schema_registry_user": "operator",
            "schema_registry_password": SecretStr("operator-chosen-password-123"),
        }
    )
    process = ManagedProcess(
        "registry",
        [sys.executable, "-m", "sfpms", "registry"],
        log_path=tmp_path / "registry-configured.log",
        env={**os.environ, **settings_env(configured)},
    )
    process.start()
    try:
        wait_until(lambda: port_open(configured.registry_port), timeout=60, what="registry")
        base = configured.registry_url()
        good = ("operator", "operator-chosen-password-123")
        assert httpx.get(f"{base}/subjects", auth=good).json() == []
        assert httpx.get(f"{base}/subjects", auth=("operator", "x")).status_code == 401
        assert not list((settings.data_dir / "registry").glob("*.json"))  # nothing generated
    finally:
        process.stop(grace=5)
