from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

from emulators.salesforce.config import ADMIN_USER, CLIENT_ID, CLIENT_SECRET
from tests.integration.salesforce.support import RunningSalesforce

pytestmark = pytest.mark.integration

StartSf = Callable[..., AbstractContextManager[RunningSalesforce]]


def _token(sf: RunningSalesforce, **form: str) -> tuple[int, dict[str, str]]:
    data = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **form}
    response = sf.http.post(f"{sf.url}/services/oauth2/token", data=data)
    return response.status_code, response.json()


def test_password_grant_returns_salesforce_token_response(sf: RunningSalesforce) -> None:
    status, body = _token(
        sf, grant_type="password", username="admin@sfpms.local", password=ADMIN_USER[1]
    )
    assert status == 200
    assert set(body) == {
        "access_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "signature",
    }
    assert body["token_type"] == "Bearer"
    assert body["instance_url"] == sf.url
    org_id, user_id = body["id"].rsplit("/", 2)[-2:]
    assert body["id"] == f"{sf.url}/id/{org_id}/{user_id}"
    assert org_id.startswith("00D") and user_id.startswith("005")
    assert abs(int(body["issued_at"]) - time.time() * 1000) < 60_000
    expected = hmac.new(
        CLIENT_SECRET.encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256
    ).digest()
    assert base64.b64decode(body["signature"]) == expected


def test_client_credentials_grant_runs_as_the_integration_user(sf: RunningSalesforce) -> None:
    status, body = _token(sf, grant_type="client_credentials")
    assert status == 200
    identity = sf.http.get(body["id"], headers={"Authorization": f"Bearer {body['access_token']}"})
    assert identity.json()["username"] == "admin@sfpms.local"


def test_identity_url_describes_the_logged_in_human(sf: RunningSalesforce) -> None:
    status, body = _token(
        sf, grant_type="password", username="alice@sfpms.local", password="sfpms-alice"
    )
    assert status == 200
    identity = sf.http.get(body["id"], headers={"Authorization": f"Bearer {body['access_token']}"})
    assert identity.json()["display_name"] == "Alice Example"
    assert identity.json()["user_id"] == body["id"].rsplit("/", 1)[-1]


def test_wrong_password_is_invalid_grant(sf: RunningSalesforce) -> None:
    status, body = _token(sf, grant_type="password", username="admin@sfpms.local", password="wrong")
    assert (status, body) == (
        400,
        {"error": "invalid_grant", "error_description": "authentication failure"},
    )


def test_unknown_user_is_invalid_grant(sf: RunningSalesforce) -> None:
    status, body = _token(sf, grant_type="password", username="bob@sfpms.local", password="x")
    assert status == 400 and body["error"] == "invalid_grant"


def test_bad_client_secret_is_invalid_client(sf: RunningSalesforce) -> None:
    status, body = _token(sf, grant_type="client_credentials", client_secret="nope")
    assert (status, body["error"]) == (400, "invalid_client")


def test_unknown_client_id_is_invalid_client_id(sf: RunningSalesforce) -> None:
    status, body = _token(sf, grant_type="client_credentials", client_id="someone-else")
    assert (status, body["error"]) == (400, "invalid_client_id")


def test_unsupported_grant_type(sf: RunningSalesforce) -> None:
    status, body = _token(sf, grant_type="authorization_code", code="x")
    assert (status, body["error"]) == (400, "unsupported_grant_type")


def test_added_user_can_log_in(sf: RunningSalesforce) -> None:
    created = sf.admin(
        "POST", "/users", json={"username": "bob@sfpms.local", "password": "pw", "last_name": "Bob"}
    )
    status, body = _token(sf, grant_type="password", username="bob@sfpms.local", password="pw")
    assert status == 200 and body["id"].endswith(created["id"])


def test_missing_or_garbage_token_is_invalid_session(sf: RunningSalesforce) -> None:
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic x"}):
        response = sf.http.get(f"{sf.url}/services/data/v60.0/limits", headers=headers)
        assert response.status_code == 401
        assert response.json() == [
            {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
        ]


def test_tokens_expire_after_their_ttl(start_sf: StartSf) -> None:
    with start_sf(token_ttl_s=1) as sf:
        token = sf.token()
        assert sf.api("GET", "/limits", token).status_code == 200
        time.sleep(1.2)
        expired = sf.api("GET", "/limits", token)
        assert expired.status_code == 401
        assert expired.json()[0]["errorCode"] == "INVALID_SESSION_ID"
        assert sf.api("GET", "/limits", sf.token()).status_code == 200


def test_admin_route_expires_every_token_at_once(sf: RunningSalesforce) -> None:
    tokens = [sf.token(), sf.alice_token()]
    assert sf.admin("POST", "/expire-tokens") == {"expired": 2}
    assert all(sf.api("GET", "/limits", t).status_code == 401 for t in tokens)
