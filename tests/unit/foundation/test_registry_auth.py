"""HTTP basic authentication of the embedded registry, as Confluent Schema Registry does it:
every route needs credentials; without them 401 with Confluent's body and a challenge."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from pydantic import SecretStr

from foundation.local_credentials import ensure_local_credentials, read_local_credentials
from foundation.settings import Settings
from sfpms.registry.app import Registry, create_registry_app
from sfpms.registry.auth import BasicAuth, BindRefused, check_bind
from sfpms.registry.log import MemoryLog

SCHEMA = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "string"}]})
AUTH = BasicAuth("sync", SecretStr("a-long-registry-password"))
UNAUTHORIZED = {"error_code": 401, "message": "Unauthorized"}


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_registry_app(Registry(MemoryLog()), auth=AUTH))


def _good() -> tuple[str, str]:
    return AUTH.user, AUTH.password.get_secret_value()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/", None),
        ("GET", "/subjects", None),
        ("POST", "/subjects/s-value/versions", {"schema": SCHEMA}),
        ("PUT", "/config", {"compatibility": "NONE"}),
        ("DELETE", "/subjects/s-value", None),
        ("GET", "/schemas/ids/1", None),
    ],
)
def test_every_route_without_credentials_gets_confluents_401_and_a_challenge(
    client: TestClient, method: str, path: str, body: dict[str, str] | None
) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="')


@pytest.mark.parametrize(
    "header",
    [
        "Basic " + "c3luYzp3cm9uZw==",  # sync:wrong
        "Basic not-base64!",
        "Basic " + "bm9jb2xvbg==",  # nocolon
        "Bearer a-long-registry-password",
    ],
)
def test_wrong_or_malformed_credentials_are_refused(client: TestClient, header: str) -> None:
    response = client.get("/subjects", headers={"Authorization": header})
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


def test_an_unauthenticated_client_can_neither_lower_compatibility_nor_delete(
    client: TestClient,
) -> None:
    assert client.post("/subjects/s-value/versions", json={"schema": SCHEMA}, auth=_good()).json()
    assert client.put("/config", json={"compatibility": "NONE"}).status_code == 401
    assert client.delete("/subjects/s-value").status_code == 401
    assert client.get("/config", auth=_good()).json() == {"compatibilityLevel": "BACKWARD"}
    assert client.get("/subjects", auth=_good()).json() == ["s-value"]


def test_the_right_credentials_reach_every_route(client: TestClient) -> None:
    assert client.post(
        "/subjects/s-value/versions", json={"schema": SCHEMA}, auth=_good()
    ).json() == {"id": 1}
    assert client.put("/config", json={"compatibility": "FULL"}, auth=_good()).status_code == 200
    assert client.delete("/subjects/s-value", auth=_good()).json() == [1]


def test_local_credentials_are_made_once_readable_only_by_their_owner(tmp_path: Path) -> None:
    assert read_local_credentials(tmp_path) is None
    user, password = ensure_local_credentials(tmp_path)
    again = ensure_local_credentials(tmp_path)
    assert again[0] == user and again[1].get_secret_value() == password.get_secret_value()
    assert len(password.get_secret_value()) >= 32
    path = next(tmp_path.rglob("*.json"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_clients_of_the_embedded_registry_use_its_local_credentials(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert "basic.auth.user.info" not in settings.registry_client_config()
    user, password = ensure_local_credentials(tmp_path)
    conf = settings.registry_client_config()
    assert conf["basic.auth.user.info"] == f"{user}:{password.get_secret_value()}"
    elsewhere = Settings(data_dir=tmp_path, schema_registry_url="https://sr.example.com")
    assert "basic.auth.user.info" not in elsewhere.registry_client_config()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
def test_loopback_may_use_generated_credentials(host: str) -> None:
    check_bind(host, configured=False)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "registry.internal"])
def test_binding_off_loopback_needs_configured_credentials(host: str) -> None:
    with pytest.raises(BindRefused, match="SFPMS_SCHEMA_REGISTRY_USER"):
        check_bind(host, configured=False)
    check_bind(host, configured=True)


def test_the_command_refuses_before_it_binds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from sfpms.cli import cli

    def must_not_run(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("uvicorn.run was called")

    monkeypatch.setattr(uvicorn, "run", must_not_run)
    monkeypatch.setenv("SFPMS_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(cli, ["registry", "--host", "0.0.0.0"])
    assert result.exit_code != 0
    assert "SFPMS_SCHEMA_REGISTRY_PASSWORD" in result.output


def test_the_probes_answer_without_credentials_and_show_no_schema(client: TestClient) -> None:
    client.post("/subjects/orders-value/versions", json={"schema": SCHEMA}, auth=_good())
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "orders" not in response.text and "fields" not in response.text
    assert client.get("/subjects").status_code == 401  # the probes open nothing else
    assert client.get("/healthz/").status_code == 401  # exact paths only
