"""The OAuth 2.0 JWT bearer flow's assertion checks (pure: assertion and facts in, claims out).

As Salesforce documents the flow: the header is `{"alg": "RS256"}` (the only algorithm
accepted); the claims are `iss` (the connected app's consumer key), `sub` (the username;
the older `prn` wins when both are given), `aud` (`https://login.salesforce.com`,
`https://test.salesforce.com`, or the community URL; the emulator also accepts its own
base URL) and `exp` (seconds since the epoch, a number or a numeric string as in
Salesforce's own example, at most 3 minutes ahead). The signature is checked against the
certificate uploaded to the connected app. Salesforce allows 3 minutes of clock skew.

Refusals are `{"error", "error_description"}` with HTTP 400, worded as Salesforce words
them: `invalid_client_id` / `client identifier invalid`, and `invalid_grant` with
`invalid assertion`, `audience is invalid`, `expired authorization code` (also for an
`exp` too far ahead, e.g. milliseconds instead of seconds) or
`user hasn't approved this consumer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LOGIN_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")
#: "exp: the expiration time of the assertion within 3 minutes".
MAX_AHEAD_S = 180
#: Clock skew Salesforce tolerates around `exp`.
SKEW_S = 180


class AssertionRefused(Exception):
    """The token endpoint's OAuth error for a bad assertion."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


def _invalid() -> AssertionRefused:
    return AssertionRefused("invalid_grant", "invalid assertion")


@dataclass(frozen=True, slots=True)
class AssertionClaims:
    issuer: str
    username: str
    expires: float


def load_certificate(path: Path) -> RSAPublicKey:
    """The RSA public key of the connected app's PEM certificate; ValueError if unusable."""
    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the JWT certificate {path}: {exc}") from exc
    key = certificate.public_key()
    if not isinstance(key, RSAPublicKey):
        raise ValueError(f"the JWT certificate {path} must hold an RSA key (RS256)")
    return key


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value.strip().isdigit():
        return float(value.strip())
    return None


def check_timing(exp: Any, now: float) -> float:
    """`exp` as seconds, or the refusal: missing, expired, or more than 3 minutes ahead."""
    expires = _number(exp)
    if expires is None:
        raise _invalid()
    if expires + SKEW_S < now or expires > now + MAX_AHEAD_S + SKEW_S:
        raise AssertionRefused("invalid_grant", "expired authorization code")
    return expires


def check_audience(aud: Any, accepted: Sequence[str]) -> None:
    wanted = {a.rstrip("/").casefold() for a in accepted}
    given = aud if isinstance(aud, list) else [aud]
    if not any(isinstance(a, str) and a.rstrip("/").casefold() in wanted for a in given):
        raise AssertionRefused("invalid_grant", "audience is invalid")


def verify_assertion(
    assertion: str,
    *,
    key: RSAPublicKey | None,
    client_id: str,
    audiences: Sequence[str],
    now: float,
) -> AssertionClaims:
    """Check an assertion; its claims, or `AssertionRefused`."""
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise _invalid() from exc
    if header.get("alg") != "RS256" or not isinstance(claims, dict):
        raise _invalid()
    if claims.get("iss") != client_id:
        raise AssertionRefused("invalid_client_id", "client identifier invalid")
    if key is None:
        raise _invalid()  # the connected app has no certificate to check signatures with
    try:
        jwt.decode(
            assertion,
            key,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_aud": False, "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        raise _invalid() from exc
    check_audience(claims.get("aud"), audiences)
    expires = check_timing(claims.get("exp"), now)
    username = claims.get("prn") or claims.get("sub")
    if not isinstance(username, str) or not username:
        raise AssertionRefused("invalid_grant", "user hasn't approved this consumer")
    return AssertionClaims(client_id, username, expires)
