"""The embedded registry's REST contract, over an in-memory log (no broker)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sfpms.registry.app import Registry, create_registry_app
from sfpms.registry.log import MemoryLog

V1 = json.dumps(
    {"type": "record", "name": "R", "namespace": "t", "fields": [{"name": "a", "type": "string"}]}
)
V2_WITH_DEFAULT = json.dumps(
    {
        "type": "record",
        "name": "R",
        "namespace": "t",
        "fields": [
            {"name": "a", "type": "string"},
            {"name": "b", "type": ["null", "string"], "default": None},
        ],
    }
)
V2_NO_DEFAULT = json.dumps(
    {
        "type": "record",
        "name": "R",
        "namespace": "t",
        "fields": [{"name": "a", "type": "string"}, {"name": "c", "type": "int"}],
    }
)


@pytest.fixture
def log() -> MemoryLog:
    return MemoryLog()


@pytest.fixture
def client(log: MemoryLog) -> TestClient:
    return TestClient(create_registry_app(Registry(log)))


def register(client: TestClient, subject: str, schema: str) -> tuple[int, dict[str, Any]]:
    response = client.post(f"/subjects/{subject}/versions", json={"schema": schema})
    return response.status_code, response.json()


def test_registering_twice_returns_the_same_id_and_one_version(client: TestClient) -> None:
    assert register(client, "s-value", V1) == (200, {"id": 1})
    assert register(client, "s-value", json.dumps(json.loads(V1), indent=4)) == (200, {"id": 1})
    assert client.get("/subjects/s-value/versions").json() == [1]


def test_same_schema_under_two_subjects_shares_its_id(client: TestClient) -> None:
    register(client, "a-value", V1)
    assert register(client, "b-value", V1)[1] == {"id": 1}


def test_compatible_evolution_gets_a_new_version_and_id(client: TestClient) -> None:
    register(client, "s-value", V1)
    assert register(client, "s-value", V2_WITH_DEFAULT) == (200, {"id": 2})
    latest = client.get("/subjects/s-value/versions/latest").json()
    assert latest["version"] == 2 and latest["id"] == 2 and latest["subject"] == "s-value"
    assert client.get("/schemas/ids/1").json() == {"schema": V1}


def test_new_field_without_default_is_refused_with_409(client: TestClient) -> None:
    register(client, "s-value", V1)
    status, body = register(client, "s-value", V2_NO_DEFAULT)
    assert status == 409
    assert body["error_code"] == 409
    assert "incompatible" in body["message"]
    assert client.get("/subjects/s-value/versions").json() == [1]


def test_compatibility_endpoint_reports_without_registering(client: TestClient) -> None:
    register(client, "s-value", V1)
    ok = client.post(
        "/compatibility/subjects/s-value/versions/latest", json={"schema": V2_WITH_DEFAULT}
    )
    bad = client.post(
        "/compatibility/subjects/s-value/versions/latest?verbose=true",
        json={"schema": V2_NO_DEFAULT},
    )
    assert ok.json() == {"is_compatible": True}
    assert bad.json()["is_compatible"] is False
    assert bad.json()["messages"]
    assert client.get("/subjects/s-value/versions").json() == [1]


def test_level_none_on_a_subject_allows_any_change(client: TestClient) -> None:
    register(client, "s-value", V1)
    assert client.put("/config/s-value", json={"compatibility": "NONE"}).json() == {
        "compatibility": "NONE"
    }
    assert register(client, "s-value", V2_NO_DEFAULT)[0] == 200
    assert client.get("/config").json() == {"compatibilityLevel": "BACKWARD"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("get", "/subjects/nope/versions", None, 404, 40401),
        ("get", "/subjects/nope/versions/latest", None, 404, 40401),
        ("get", "/schemas/ids/99", None, 404, 40403),
        ("post", "/subjects/nope", {"schema": V1}, 404, 40401),
        ("post", "/subjects/s/versions", {"schema": "{not json"}, 422, 42201),
        ("post", "/subjects/s/versions", {"schema": V1, "schemaType": "PROTOBUF"}, 422, 42201),
        ("put", "/config", {"compatibility": "SIDEWAYS"}, 422, 42203),
        ("get", "/config/unset", None, 404, 40408),
    ],
)
def test_errors_use_confluent_codes(
    client: TestClient,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    code: int,
) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == status
    assert response.json()["error_code"] == code
    assert response.json()["message"]


def test_unknown_version_of_a_known_subject_is_40402(client: TestClient) -> None:
    register(client, "s-value", V1)
    response = client.get("/subjects/s-value/versions/7")
    assert (response.status_code, response.json()["error_code"]) == (404, 40402)


def test_lookup_of_unregistered_schema_is_40403(client: TestClient) -> None:
    register(client, "s-value", V1)
    response = client.post("/subjects/s-value", json={"schema": V2_WITH_DEFAULT})
    assert (response.status_code, response.json()["error_code"]) == (404, 40403)


def test_state_is_rebuilt_from_the_log_with_stable_ids(log: MemoryLog) -> None:
    first = TestClient(create_registry_app(Registry(log)))
    register(first, "a-value", V1)
    register(first, "a-value", V2_WITH_DEFAULT)
    first.put("/config/a-value", json={"compatibility": "FULL"})
    second = TestClient(create_registry_app(Registry(log)))
    assert second.get("/subjects/a-value/versions/2").json()["id"] == 2
    assert second.get("/config/a-value").json() == {"compatibilityLevel": "FULL"}
    assert register(second, "b-value", V1)[1] == {"id": 1}


def test_soft_deleted_subject_disappears_but_its_ids_still_resolve(client: TestClient) -> None:
    register(client, "s-value", V1)
    assert client.delete("/subjects/s-value").json() == [1]
    assert client.get("/subjects").json() == []
    assert client.get("/schemas/ids/1").status_code == 200
