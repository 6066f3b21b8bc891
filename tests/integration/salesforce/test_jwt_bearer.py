"""The OAuth 2.0 JWT bearer grant on the emulator: our client, simple-salesforce, refusals."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce

from connectors.salesforce import SalesforceClient
from emulators.salesforce.config import ADMIN_USER, CLIENT_ID
from foundation.errors import ConfigError
from tests.integration.salesforce.support import RunningSalesforce
from tests.support.rsa_keys import KeyPair, make_key_pair

pytestmark = pytest.mark.integration

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
Starter = Callable[..., AbstractContextManager[RunningSalesforce]]


@pytest.fixture
def keys(tmp_path: Path) -> KeyPair:
    return make_key_pair(tmp_path / "app")


@pytest.fixture
def jwt_sf(start_sf: Starter, keys: KeyPair) -> Iterator[RunningSalesforce]:
    with start_sf(jwt_certificate=keys.certificate) as running:
        yield running


def _assertion(key: bytes, **overrides: Any) -> str:
    claims: dict[str, Any] = {
        "iss": CLIENT_ID,
        "sub": ADMIN_USER[0],
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 170,
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256")


def _token(sf: RunningSalesforce, assertion: str) -> requests.Response:
    return sf.http.post(
        f"{sf.url}/services/oauth2/token", data={"grant_type": GRANT, "assertion": assertion}
    )


def test_a_signed_assertion_gets_a_token_for_the_named_user(
    jwt_sf: RunningSalesforce, keys: KeyPair
) -> None:
    response = _token(jwt_sf, _assertion(keys.private_pem, exp=str(int(time.time()) + 170)))
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["instance_url"] == jwt_sf.url
    info = jwt_sf.http.get(body["id"], headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.json()["username"] == ADMIN_USER[0]
    own_url = _token(jwt_sf, _assertion(keys.private_pem, aud=jwt_sf.url))
    assert own_url.status_code == 200  # the emulator's own URL is an accepted audience


@pytest.mark.parametrize(
    ("claims", "error", "description"),
    [
        ({"iss": "someone-else"}, "invalid_client_id", "client identifier invalid"),
        ({"aud": "https://example.com"}, "invalid_grant", "audience is invalid"),
        ({"exp": int(time.time()) - 600}, "invalid_grant", "expired authorization code"),
        ({"exp": int(time.time() * 1000)}, "invalid_grant", "expired authorization code"),
        ({"exp": None}, "invalid_grant", "invalid assertion"),
        ({"sub": "nobody@sfpms.local"}, "invalid_grant", "user hasn't approved this consumer"),
    ],
)
def test_bad_assertions_are_refused_as_salesforce_refuses_them(
    jwt_sf: RunningSalesforce,
    keys: KeyPair,
    claims: dict[str, Any],
    error: str,
    description: str,
) -> None:
    response = _token(jwt_sf, _assertion(keys.private_pem, **claims))
    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": description}


def test_an_assertion_signed_with_another_key_is_invalid(
    jwt_sf: RunningSalesforce, tmp_path: Path
) -> None:
    other = make_key_pair(tmp_path / "other")
    response = _token(jwt_sf, _assertion(other.private_pem))
    assert response.json() == {"error": "invalid_grant", "error_description": "invalid assertion"}
    garbage = _token(jwt_sf, "not-a-jwt")
    assert garbage.json()["error_description"] == "invalid assertion"


def test_without_a_configured_certificate_assertions_cannot_be_checked(
    sf: RunningSalesforce, keys: KeyPair
) -> None:
    assert _token(sf, _assertion(keys.private_pem)).json()["error_description"] == (
        "invalid assertion"
    )


class _ToEmulator(HTTPAdapter):
    """Sends simple-salesforce's requests for login.salesforce.com to the emulator."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    def send(  # type: ignore[override]  # passes every keyword through unchanged
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        parts = urlsplit(str(request.url))
        request.url = f"{self.target}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        return super().send(request, **kwargs)


def test_simple_salesforce_jwt_login_works_unchanged(
    jwt_sf: RunningSalesforce, keys: KeyPair
) -> None:
    session = requests.Session()
    session.verify, session.trust_env = str(jwt_sf.cert), False
    session.mount("https://login.salesforce.com", _ToEmulator(jwt_sf.url))
    jwt_sf.sessions.append(session)
    client = Salesforce(
        username=ADMIN_USER[0],
        consumer_key=CLIENT_ID,
        privatekey_file=str(keys.private_key_file),
        session=session,
        version="60.0",
    )
    assert client.query("SELECT Id FROM Task")["totalSize"] == 0


async def test_the_client_logs_in_with_the_jwt_flow(
    jwt_sf: RunningSalesforce, keys: KeyPair
) -> None:
    settings = jwt_sf.settings(
        salesforce_auth="jwt",
        salesforce_jwt_key_file=keys.private_key_file,
        salesforce_password=None,
        salesforce_client_secret="not-used",
    )
    async with SalesforceClient(settings) as salesforce:
        identity = await salesforce.identity()
    assert identity.username == ADMIN_USER[0]
    token_calls = jwt_sf.admin("GET", "/stats")["requests"]["POST /services/oauth2/token"]
    assert token_calls == 1


async def test_the_client_names_the_missing_jwt_key_setting(jwt_sf: RunningSalesforce) -> None:
    async with SalesforceClient(jwt_sf.settings(salesforce_auth="jwt")) as salesforce:
        with pytest.raises(ConfigError, match="SFPMS_SALESFORCE_JWT_KEY_FILE"):
            await salesforce.identity()


async def test_a_garbled_key_is_reported_without_its_content(
    jwt_sf: RunningSalesforce, tmp_path: Path
) -> None:
    secret = "-----BEGIN PRIVATE KEY-----\nTOP-SECRET-MATERIAL\n-----END PRIVATE KEY-----\n"
    settings = jwt_sf.settings(salesforce_auth="jwt", salesforce_jwt_key=secret)
    async with SalesforceClient(settings) as salesforce:
        with pytest.raises(ConfigError) as raised:
            await salesforce.identity()
    assert "TOP-SECRET" not in str(raised.value) and "not a PEM RSA private key" in str(
        raised.value
    )
