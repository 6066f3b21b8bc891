"""Schemathesis against the served /openapi.json of a real emulator: no 5xx, no schema breaks.

schemathesis' lazy `from_fixture` loader does not run under pytest 9, so operations are listed
at collection time from the app's own document, and each test loads the *served* document and
drives one operation with a Hypothesis strategy from schemathesis' Python API, running all of
schemathesis' default checks on every response.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from emulators.custompms import CustompmsEmulatorConfig, create_app
from emulators.custompms.custom_fields import parse_custom_fields
from tests.integration.custompms.support import SYNC_TOKEN, running_emulator

pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {SYNC_TOKEN}"}
EXAMPLES = 10
#: Seeded records that generated references are pointed at (existence is not in a schema).
LIVE_REFERENCES = {"project_id": "prj_000001", "customer_id": "cus_000001"}
#: Custom fields of every type, so the typed `custom_fields` objects are exercised too.
CUSTOM_FIELDS = [
    {"resource": "tasks", "name": "region", "type": "enum", "values": ["emea", "apac"]},
    {"resource": "tasks", "name": "effort", "type": "number"},
    {"resource": "tasks", "name": "billable", "type": "boolean"},
    {"resource": "projects", "name": "kickoff", "type": "date"},
    {"resource": "projects", "name": "signed_at", "type": "datetime"},
    {"resource": "customers", "name": "segment", "type": "string", "max_length": 20},
]


def _cases() -> list[tuple[str, str, GenerationMode]]:
    cases = []
    config = CustompmsEmulatorConfig(custom_fields=parse_custom_fields(CUSTOM_FIELDS))
    for path, methods in create_app(config).openapi()["paths"].items():
        for method, operation in methods.items():
            cases.append((path, method.upper(), GenerationMode.POSITIVE))
            # Negative data needs something constrained to break: a body or a parameter
            # besides the free-form record id.
            params = [p for p in operation.get("parameters", []) if p["in"] != "path"]
            if "requestBody" in operation or params:
                cases.append((path, method.upper(), GenerationMode.NEGATIVE))
    return sorted(cases)


@pytest.fixture(scope="module")
def served_schema() -> Iterator[Any]:
    with running_emulator(seed=True, custom_fields=CUSTOM_FIELDS) as emulator:
        config = schemathesis.Config.from_dict({"headers": AUTH})
        yield schemathesis.openapi.from_url(f"{emulator.url}/openapi.json", config=config)


def _with_semantics(case: Any, mode: GenerationMode) -> None:
    """Rules a schema cannot state: keys are single-use, references name live records,
    cursors come from the server."""
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    if mode is GenerationMode.POSITIVE and case.query:
        case.query.pop("cursor", None)  # only a next_cursor the server issued is valid
    if mode is GenerationMode.POSITIVE and isinstance(case.body, dict):
        for field, live_id in LIVE_REFERENCES.items():
            if isinstance(case.body.get(field), str):
                case.body[field] = live_id


@pytest.mark.parametrize(("path", "method", "mode"), _cases(), ids=str)
def test_every_operation_answers_within_its_documented_schema(
    served_schema: Any, path: str, method: str, mode: GenerationMode
) -> None:
    operation = served_schema[path][method]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        _with_semantics(case, mode)
        case.call_and_validate(headers=AUTH)

    check()
