"""Who may read the dashboard: the Host header is checked (DNS rebinding), the token never
travels in a URL (a header for scripts, an HttpOnly SameSite=Strict cookie set by a login
form for browsers), and an empty token off the loopback interface refuses to start."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from pydantic import SecretStr

from foundation.errors import ConfigError
from foundation.settings import Settings
from sfpms.dashboard import create_app
from sfpms.dashboard.app import link_page, page
from sfpms.dashboard.auth import SESSION_COOKIE, check_bind, configured_token
from sfpms.observe.sampler import Sampler

TOKEN = "dash-token-0123456789abcdef"
BASE = "http://127.0.0.1:18080"


def make_client(token: str | None, **extra: object) -> Iterator[TestClient]:
    settings = Settings(
        kafka_bootstrap="127.0.0.1:9",
        dashboard_token=SecretStr(token) if token is not None else None,
        **extra,  # type: ignore[arg-type]
    )
    app = create_app(settings, sampler=Sampler(settings, cluster="local"), run_sampler=False)
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        yield client


@pytest.fixture
def guarded() -> Iterator[TestClient]:
    yield from make_client(TOKEN, dashboard_allowed_hosts=("sync.example.com",))


@pytest.fixture
def open_local() -> Iterator[TestClient]:
    yield from make_client(None)


def _login(client: TestClient, token: str = TOKEN) -> Any:  # starlette's httpx2 Response
    return client.post(
        "/login",
        content=f"token={token}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


@pytest.mark.parametrize("host", ["evil.example", "evil.example:18080", "127.0.0.1.nip.io"])
def test_a_foreign_host_header_is_refused_so_dns_rebinding_reads_nothing(
    open_local: TestClient, host: str
) -> None:
    for path in ("/", "/api/overview", "/metrics", "/healthz", "/login"):
        response = open_local.get(path, headers={"Host": host})
        assert response.status_code == 400, (host, path)
        assert "SFPMS_DASHBOARD_ALLOWED_HOSTS" in response.json()["detail"]


@pytest.mark.parametrize(
    "host", ["127.0.0.1:18080", "localhost:18080", "LOCALHOST", "[::1]:18080", "127.0.0.1"]
)
def test_loopback_names_are_always_accepted(open_local: TestClient, host: str) -> None:
    assert open_local.get("/api/overview", headers={"Host": host}).status_code == 200


def test_configured_host_names_are_accepted(guarded: TestClient) -> None:
    headers = {"Host": "sync.example.com", "Authorization": f"Bearer {TOKEN}"}
    assert guarded.get("/api/overview", headers=headers).status_code == 200


def test_a_token_in_the_url_is_not_accepted(guarded: TestClient) -> None:
    assert guarded.get(f"/api/overview?token={TOKEN}").status_code == 401
    page_response = guarded.get(f"/?token={TOKEN}")
    assert page_response.status_code == 401
    assert "<form" in page_response.text and TOKEN not in page_response.text


def test_without_credentials_the_page_is_a_login_form_and_the_api_a_401(
    guarded: TestClient,
) -> None:
    page_response = guarded.get("/")
    assert page_response.status_code == 401
    assert 'method="post"' in page_response.text and 'action="/login"' in page_response.text
    api = guarded.get("/api/overview")
    assert api.status_code == 401 and api.headers["www-authenticate"] == "Bearer"
    assert guarded.get("/login").status_code == 200


def test_logging_in_sets_an_httponly_strict_cookie_that_is_not_the_token(
    guarded: TestClient,
) -> None:
    response = _login(guarded)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/"):
        assert attribute.lower() in cookie.lower(), attribute
    assert TOKEN not in cookie
    assert guarded.get("/api/overview").status_code == 200  # the client kept the cookie
    assert guarded.get("/").status_code == 200


def test_a_wrong_token_at_the_login_form_sets_no_cookie(guarded: TestClient) -> None:
    response = _login(guarded, "wrong-token")
    assert response.status_code == 401
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("value", ["forged", "99999999999.deadbeef", "1.abc", ""])
def test_a_forged_or_expired_session_cookie_is_refused(guarded: TestClient, value: str) -> None:
    guarded.cookies.set(SESSION_COOKIE, value)
    assert guarded.get("/api/overview").status_code == 401


def test_logging_out_forgets_the_session(guarded: TestClient) -> None:
    _login(guarded)
    assert guarded.post("/logout").status_code == 303
    assert guarded.get("/api/overview").status_code == 401


@pytest.mark.parametrize(
    "claims", [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}]
)
def test_a_login_posted_from_another_site_is_refused(
    guarded: TestClient, claims: dict[str, str]
) -> None:
    response = guarded.post(
        "/login",
        content=f"token={TOKEN}",
        headers={"Content-Type": "application/x-www-form-urlencoded", **claims},
    )
    assert response.status_code == 403 and "set-cookie" not in response.headers


def test_the_dashboards_own_form_posts_with_origin_null_under_no_referrer(
    guarded: TestClient,
) -> None:
    headers = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    response = guarded.post(
        "/login",
        content=f"token={TOKEN}",
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
    )
    assert response.status_code == 303


@pytest.mark.parametrize("render", [page, link_page])
def test_the_page_scripts_take_no_token_from_the_url_or_storage(render: Any) -> None:
    script = render()
    assert "?token=" not in script and 'params.get("token")' not in script
    assert "sessionStorage.setItem" not in script and "Authorization" not in script


@pytest.mark.parametrize("value", [None, "", "   "])
def test_an_empty_token_counts_as_unset(value: str | None) -> None:
    settings = Settings(dashboard_token=None if value is None else SecretStr(value))
    assert configured_token(settings) is None
    check_bind("127.0.0.1", settings)  # loopback: allowed, read-only, no token
    with pytest.raises(ConfigError, match="SFPMS_DASHBOARD_TOKEN"):
        check_bind("0.0.0.0", settings)


def test_off_loopback_a_short_token_is_refused_and_a_long_one_accepted() -> None:
    with pytest.raises(ConfigError, match="at least"):
        check_bind("0.0.0.0", Settings(dashboard_token=SecretStr("short")))
    check_bind("0.0.0.0", Settings(dashboard_token=SecretStr(TOKEN)))


def test_the_command_refuses_to_listen_off_loopback_without_a_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uvicorn

    from sfpms.cli import cli

    def must_not_run(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("uvicorn.run was called")

    monkeypatch.setattr(uvicorn, "run", must_not_run)
    monkeypatch.setenv("SFPMS_DASHBOARD_TOKEN", "")  # compose's ${SFPMS_DASHBOARD_TOKEN:-}
    result = CliRunner().invoke(cli, ["dashboard", "--host", "0.0.0.0"])
    assert result.exit_code != 0
    assert "SFPMS_DASHBOARD_TOKEN" in result.output


def test_the_probes_need_no_token_but_still_a_known_host(guarded: TestClient) -> None:
    assert guarded.get("/healthz").status_code == 200
    assert guarded.get("/readyz").status_code in (200, 503)  # 503: no poll yet, and says why
    assert "ready" in guarded.get("/readyz").json()
    assert guarded.get("/readyz", headers={"Host": "10.0.0.7:8080"}).status_code == 400


def test_a_link_page_opened_without_a_session_shows_the_login_form(guarded: TestClient) -> None:
    response = guarded.get("/links/00T000000000001")
    assert response.status_code == 401 and 'action="/login"' in response.text
    _login(guarded)
    assert guarded.get("/links/00T000000000001").status_code == 200
