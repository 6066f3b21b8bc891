"""Custompms custom fields (OpenAPI, validation, merge-patch, feed) and conditional writes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.custompms.support import RunningEmulator, all_changes, running_emulator

pytestmark = pytest.mark.integration

DECLARED = [
    {"resource": "tasks", "name": "region", "type": "enum", "values": ["emea", "apac"]},
    {"resource": "tasks", "name": "effort", "type": "number"},
    {"resource": "tasks", "name": "billable", "type": "boolean"},
    {"resource": "tasks", "name": "kickoff", "type": "date"},
    {"resource": "tasks", "name": "signed_at", "type": "datetime"},
    {"resource": "customers", "name": "segment", "type": "string", "max_length": 5},
]


@pytest.fixture
def custom() -> Iterator[RunningEmulator]:
    with running_emulator(custom_fields=DECLARED) as running:
        yield running


@pytest.fixture
def api(custom: RunningEmulator) -> Iterator[httpx.Client]:
    with custom.http() as client:
        yield client


def _project(api: httpx.Client) -> str:
    return str(api.post("/projects", json={"name": "P"}).json()["id"])


def _error(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


def test_the_openapi_document_types_the_declared_custom_fields(custom: RunningEmulator) -> None:
    doc = httpx.get(f"{custom.url}/openapi.json").json()
    schemas = doc["components"]["schemas"]
    fields = schemas["TaskCustomFields"]["properties"]
    assert set(fields) == {"region", "effort", "billable", "kickoff", "signed_at"}
    region = fields["region"]["anyOf"][0]
    assert region["enum"] == ["emea", "apac"]
    assert fields["effort"]["anyOf"][0]["type"] == "number"
    assert fields["kickoff"]["anyOf"][0]["format"] == "date"
    assert "custom_fields" in schemas["Task"]["required"]
    assert "custom_fields" in schemas["TaskCreate"]["properties"]
    segment = schemas["CustomerCustomFieldsInput"]["properties"]["segment"]["anyOf"][0]
    assert segment["maxLength"] == 5


def test_records_carry_every_declared_custom_field(api: httpx.Client) -> None:
    project = _project(api)
    created = api.post(
        "/tasks",
        json={
            "project_id": project,
            "title": "t",
            "custom_fields": {
                "region": "emea",
                "effort": 2,
                "signed_at": "2026-12-01T10:00:00+01:00",
            },
        },
    )
    assert created.status_code == 201
    assert created.json()["custom_fields"] == {
        "region": "emea",
        "effort": 2.0,
        "billable": None,
        "kickoff": None,
        "signed_at": "2026-12-01T09:00:00.000Z",
    }
    bare = api.post("/tasks", json={"project_id": project, "title": "u"}).json()
    assert set(bare["custom_fields"].values()) == {None}
    assert api.get(f"/projects/{project}").json()["custom_fields"] == {}


@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        ({"nope": 1}, "unknown_field", "custom_fields.nope"),
        ({"region": "mars"}, "invalid_choice", "custom_fields.region"),
        ({"effort": "2"}, "invalid_value", "custom_fields.effort"),
        ({"billable": "yes"}, "invalid_value", "custom_fields.billable"),
        ({"kickoff": "01/12/2026"}, "invalid_format", "custom_fields.kickoff"),
    ],
)
def test_invalid_custom_fields_are_422_naming_the_field(
    api: httpx.Client, values: dict[str, Any], code: str, field: str
) -> None:
    response = api.post(
        "/tasks", json={"project_id": _project(api), "title": "t", "custom_fields": values}
    )
    assert response.status_code == 422
    assert (_error(response)["code"], _error(response)["field"]) == (code, field)


def test_a_too_long_custom_string_is_refused(api: httpx.Client) -> None:
    response = api.post(
        "/customers", json={"name": "Acme", "custom_fields": {"segment": "toolong"}}
    )
    assert response.status_code == 422 and _error(response)["code"] == "too_long"


def test_patch_merges_custom_fields_field_by_field(api: httpx.Client) -> None:
    project = _project(api)
    task = api.post(
        "/tasks",
        json={
            "project_id": project,
            "title": "t",
            "custom_fields": {"region": "emea", "effort": 3},
        },
    ).json()
    patched = api.patch(f"/tasks/{task['id']}", json={"custom_fields": {"effort": 5}}).json()
    assert patched["custom_fields"]["region"] == "emea" and patched["custom_fields"]["effort"] == 5
    cleared = api.patch(f"/tasks/{task['id']}", json={"custom_fields": {"region": None}}).json()
    assert cleared["custom_fields"]["region"] is None and cleared["custom_fields"]["effort"] == 5
    same = api.patch(f"/tasks/{task['id']}", json={"custom_fields": {"effort": 5}}).json()
    assert same["version"] == cleared["version"]  # nothing changed, no new version
    emptied = api.patch(f"/tasks/{task['id']}", json={"custom_fields": None}).json()
    assert set(emptied["custom_fields"].values()) == {None}
    feed = [c for c in all_changes(api) if c["id"] == task["id"]]
    assert [c["record"]["custom_fields"]["effort"] for c in feed] == [3, 5, 5, None]


def test_batch_writes_validate_custom_fields_too(api: httpx.Client) -> None:
    project = _project(api)
    results = api.post(
        "/tasks/batch",
        json={
            "operations": [
                {
                    "op": "create",
                    "data": {
                        "project_id": project,
                        "title": "a",
                        "custom_fields": {"billable": True},
                    },
                },
                {
                    "op": "create",
                    "data": {"project_id": project, "title": "b", "custom_fields": {"bogus": True}},
                },
            ]
        },
    ).json()["results"]
    assert results[0]["status"] == 201 and results[0]["record"]["custom_fields"]["billable"] is True
    assert results[1]["status"] == 422 and results[1]["error"]["field"] == "custom_fields.bogus"


def test_every_write_path_honours_if_match_and_names_the_current_version(
    api: httpx.Client,
) -> None:
    project = _project(api)
    task = api.post("/tasks", json={"project_id": project, "title": "t"}).json()
    stale = {"If-Match": '"7"'}
    patch = api.patch(f"/tasks/{task['id']}", json={"title": "x"}, headers=stale)
    delete = api.delete(f"/tasks/{task['id']}", headers=stale)
    for response in (patch, delete):
        assert response.status_code == 412
        assert _error(response)["code"] == "version_mismatch"
        assert _error(response)["current_version"] == 1
    batch = api.post(
        "/tasks/batch",
        json={
            "operations": [
                {"op": "update", "id": task["id"], "data": {"title": "x"}, "if_match": 7},
                {"op": "delete", "id": task["id"], "if_match": 7},
                {"op": "update", "id": task["id"], "data": {"title": "y"}, "if_match": 1},
                {"op": "delete", "id": task["id"], "if_match": 1},
            ]
        },
    ).json()["results"]
    assert [r["status"] for r in batch] == [412, 412, 200, 412]
    assert [r["error"]["current_version"] for r in batch if r["error"]] == [1, 1, 2]
    assert api.get(f"/tasks/{task['id']}").json()["title"] == "y"


def test_a_reused_idempotency_key_names_the_record_the_first_request_created(
    api: httpx.Client,
) -> None:
    first = api.post("/customers", json={"name": "Acme"}, headers={"Idempotency-Key": "k-1"})
    reused = api.post("/customers", json={"name": "Other"}, headers={"Idempotency-Key": "k-1"})
    assert reused.status_code == 422
    error = _error(reused)
    assert error["code"] == "idempotency_key_reused"
    assert error["original"] == {"status": 201, "id": first.json()["id"], "version": 1}
    assert first.json()["id"] in error["message"]
    batch = api.post(
        "/customers/batch",
        json={
            "operations": [
                {"op": "create", "data": {"name": "Third"}, "idempotency_key": "k-1"},
            ]
        },
    ).json()["results"]
    assert batch[0]["error"]["original"]["id"] == first.json()["id"]
