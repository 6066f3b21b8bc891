"""`sfpms mapping validate` and the worker's start-up check, against live emulators, the
schema registry and broken files: every error names file:line and exits 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import Schema

from foundation.kafka.schemas import base_schema_dict
from foundation.kafka.serde import registry_client
from foundation.settings import Settings, settings_env
from streams.mapping.avro import installed_for
from streams.mapping.loader import parse_mapping
from tests.integration.custompms.support import running_emulator
from tests.integration.mapping.support import (
    PMS_REGION,
    REGION_ROW,
    SF_REGION,
    add_rows,
    replace_once,
    sf_custom_fields,
    shipped,
    write_copy,
)
from tests.integration.salesforce.support import running_salesforce
from tests.support.stack import with_registry

pytestmark = pytest.mark.integration

BROKEN = [
    pytest.param(
        "options: {max_length: 40}", "options: {max_length: forty}", "forty", id="wrong-type"
    ),
    pytest.param(
        "options: {max_length: 40}", "options: {max_lenght: 40}", "max_lenght", id="unknown-key"
    ),
    pytest.param(
        "        custompms: phone\n",
        "      custompms: phone\n",
        "      custompms: phone",
        id="indent",
    ),
]


def run(settings: Settings, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings_env(settings)}
    return subprocess.run(
        [sys.executable, "-m", "sfpms", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def live(kafka_bootstrap: str, tmp_path: Path, settings: Settings) -> Iterator[Settings]:
    """Both emulators (with Region declared) and a registry; settings pointing at them."""
    with (
        running_salesforce(tmp_path / "tls", **sf_custom_fields(SF_REGION)) as sf,
        running_emulator(custom_fields=PMS_REGION) as pms,
        with_registry(settings) as registered,
    ):
        yield registered.model_copy(
            update={
                "salesforce_url": sf.url,
                "salesforce_ca_bundle": sf.cert,
                "custompms_url": pms.url,
            }
        )


@pytest.mark.parametrize(("old", "new", "needle"), BROKEN)
def test_a_broken_file_stops_validate_and_the_worker_naming_its_line(
    tmp_path: Path, old: str, new: str, needle: str
) -> None:
    text = replace_once(shipped(), old, new)
    path = write_copy(tmp_path, text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if needle in row)
    settings = Settings(data_dir=tmp_path, mapping_file=path)
    checked = run(settings, "mapping", "validate", "--offline")
    assert checked.returncode == 1
    assert f"{path}:{line}: " in checked.stderr + checked.stdout
    worker = run(settings, "worker", "--no-check-schemas")
    assert worker.returncode != 0
    assert f"{path}:{line}: " in worker.stderr


def test_the_shipped_file_and_a_custom_field_fit_the_live_systems(
    live: Settings, tmp_path: Path
) -> None:
    done = run(live, "mapping", "validate")
    assert done.returncode == 0, done.stderr
    assert "fits the live Salesforce, Custompms and schema registry" in done.stdout
    region = write_copy(tmp_path, add_rows(shipped(), "task_project", REGION_ROW))
    assert run(live, "mapping", "validate", str(region)).returncode == 0


def test_a_row_naming_a_field_the_org_lacks_fails_with_its_line(
    live: Settings, tmp_path: Path
) -> None:
    text = add_rows(shipped(), "task_project", REGION_ROW.replace("Region__c", "Territory__c"))
    path = write_copy(tmp_path, text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "Territory__c" in row)
    done = run(live, "mapping", "validate", str(path))
    assert done.returncode == 1
    assert f"{path}:{line}: task_project: row Territory__c <-> custom_fields.region" in done.stderr
    assert "Salesforce Task.Territory__c does not exist" in done.stderr


def test_a_scope_condition_salesforce_refuses_fails_with_its_line(
    live: Settings, tmp_path: Path
) -> None:
    text = replace_once(
        shipped(), "    scope: {when_leaving: keep}\n", "    scope: {salesforce: 'Typo__c = 1'}\n"
    )
    path = write_copy(tmp_path, text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "Typo__c" in row)
    done = run(live, "mapping", "validate", str(path))
    assert done.returncode == 1
    assert f"{path}:{line}: task_project: scope: Salesforce refuses the scope condition" in (
        done.stderr
    )


def test_changing_a_custom_fields_type_is_refused_by_the_registry_with_what_to_do(
    live: Settings, tmp_path: Path
) -> None:
    with_region = add_rows(shipped(), "task_project", REGION_ROW)
    topic = "salesforce.task.changes"
    client = registry_client(live)
    with installed_for(parse_mapping(with_region, "m.yaml").flows.values()):
        from foundation.kafka.schemas import schema_str

        client.register_schema(
            f"{live.topic(topic)}-value", Schema(schema_str("sfpms.salesforce.TaskChange"), "AVRO")
        )
    assert "Region__c" not in json.dumps(base_schema_dict("sfpms.salesforce.TaskChange"))
    numeric = REGION_ROW.replace("type: enum", "type: number").replace("converter: enum", "")
    numeric = numeric.split("        options:")[0]
    path = write_copy(tmp_path, add_rows(shipped(), "task_project", numeric))
    done = run(live, "mapping", "validate", str(path))
    assert done.returncode == 1
    assert f"topic {topic}: the change-envelope schema this mapping generates is incompatible" in (
        done.stderr
    )
    assert "keep each field's type" in done.stderr
