"""JWT bearer assertion checks (emulator side) and assertion building (client side)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from connectors.salesforce.session import (
    ASSERTION_LIFETIME_S,
    auth_flow,
    jwt_assertion,
    jwt_audience,
)
from emulators.salesforce.jwt_bearer import (
    AssertionRefused,
    check_audience,
    check_timing,
    load_certificate,
    verify_assertion,
)
from foundation.errors import ConfigError
from foundation.settings import Settings
from tests.support.rsa_keys import KeyPair, make_key_pair

NOW = 1_800_000_000.0
AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_key_pair(tmp_path_factory.mktemp("jwt"))


def _sign(keys: KeyPair, **claims: Any) -> str:
    base: dict[str, Any] = {"iss": "app", "sub": "u@x", "aud": AUDIENCES[0], "exp": int(NOW) + 60}
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, keys.private_pem, "RS256")


def _verify(keys: KeyPair, token: str) -> Any:
    return verify_assertion(
        token,
        key=load_certificate(keys.certificate),
        client_id="app",
        audiences=AUDIENCES,
        now=NOW,
    )


@pytest.mark.parametrize("exp", [NOW + 1, NOW + 180, NOW - 179, str(int(NOW) + 100)])
def test_exp_within_three_minutes_and_the_skew_is_accepted(exp: Any) -> None:
    assert check_timing(exp, NOW) == float(exp)


@pytest.mark.parametrize("exp", [NOW - 181, NOW + 361, NOW * 1000])
def test_exp_long_past_or_too_far_ahead_is_an_expired_authorization_code(exp: float) -> None:
    with pytest.raises(AssertionRefused, match="expired authorization code"):
        check_timing(exp, NOW)


@pytest.mark.parametrize("exp", [None, "soon", True, "1.5"])
def test_a_missing_or_garbled_exp_is_an_invalid_assertion(exp: Any) -> None:
    with pytest.raises(AssertionRefused, match="invalid assertion"):
        check_timing(exp, NOW)


def test_the_audience_may_be_a_list_and_ignores_a_trailing_slash() -> None:
    check_audience(["https://example.com", "https://test.salesforce.com/"], AUDIENCES)
    with pytest.raises(AssertionRefused, match="audience is invalid"):
        check_audience("https://login.salesforce.com.evil", AUDIENCES)


def test_a_good_assertion_yields_its_user_and_prn_wins_over_sub(keys: KeyPair) -> None:
    assert _verify(keys, _sign(keys)).username == "u@x"
    assert _verify(keys, _sign(keys, prn="legacy@x")).username == "legacy@x"


@pytest.mark.parametrize(
    ("claims", "error"),
    [
        ({"iss": "other"}, "invalid_client_id"),
        ({"aud": "https://x"}, "invalid_grant"),
        ({"sub": None}, "invalid_grant"),
    ],
)
def test_bad_claims_are_refused(keys: KeyPair, claims: dict[str, Any], error: str) -> None:
    with pytest.raises(AssertionRefused) as refused:
        _verify(keys, _sign(keys, **claims))
    assert refused.value.error == error


def test_only_rs256_signed_by_the_app_key_passes(keys: KeyPair, tmp_path: Path) -> None:
    hs = jwt.encode({"iss": "app", "sub": "u", "aud": AUDIENCES[0], "exp": NOW}, "k" * 32, "HS256")
    other = make_key_pair(tmp_path / "other")
    for token in (hs, _sign(other), "a.b.c"):
        with pytest.raises(AssertionRefused, match="invalid assertion"):
            _verify(keys, token)


def test_a_certificate_that_is_not_pem_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.crt"
    bad.write_text("nope")
    with pytest.raises(ValueError, match="cannot read the JWT certificate"):
        load_certificate(bad)


def test_the_client_signs_an_assertion_the_emulator_accepts(keys: KeyPair) -> None:
    settings = Settings(
        salesforce_auth="jwt",
        salesforce_client_id="app",
        salesforce_jwt_key_file=keys.private_key_file,
        salesforce_jwt_audience=AUDIENCES[0],
        salesforce_username="u@x",
    )
    token = jwt_assertion(settings, time.time())
    claims = verify_assertion(
        token,
        key=load_certificate(keys.certificate),
        client_id="app",
        audiences=AUDIENCES,
        now=time.time(),
    )
    assert claims.username == "u@x" and claims.expires - time.time() <= ASSERTION_LIFETIME_S


@pytest.mark.parametrize(
    ("url", "audience"),
    [
        ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
        ("https://test.salesforce.com", "https://test.salesforce.com"),
        ("https://acme--dev.sandbox.my.salesforce.com", "https://test.salesforce.com"),
        (None, "https://127.0.0.1:18443"),
    ],
)
def test_the_audience_follows_the_salesforce_url(url: str | None, audience: str) -> None:
    assert jwt_audience(Settings(salesforce_url=url)) == audience


def test_the_auth_flow_defaults_to_password_then_client_credentials() -> None:
    assert auth_flow(Settings()) == "password"
    assert auth_flow(Settings(salesforce_username=None)) == "client_credentials"
    assert auth_flow(Settings(salesforce_auth="jwt")) == "jwt"


def test_jwt_without_a_username_names_the_setting(keys: KeyPair) -> None:
    settings = Settings(
        salesforce_auth="jwt",
        salesforce_jwt_key_file=keys.private_key_file,
        salesforce_username=None,
    )
    with pytest.raises(ConfigError, match="SFPMS_SALESFORCE_USERNAME"):
        jwt_assertion(settings, NOW)
