"""A real Salesforce emulator over HTTPS on 127.0.0.1, and helpers to drive it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from simple_salesforce import Salesforce

from emulators.salesforce import SalesforceEmulatorConfig, create_app
from emulators.salesforce.config import ADMIN_USER, ALICE_USER, CLIENT_ID, CLIENT_SECRET
from foundation.settings import Settings
from tests.support.servers import ThreadedServer, serve_in_thread

API = "/services/data/v60.0"


def _trust(session: requests.Session, cert: Path) -> None:
    session.verify = str(cert)
    # Without this, REQUESTS_CA_BUNDLE in the environment overrides session.verify.
    session.trust_env = False
    # No keep-alive: a response object a test still holds would otherwise keep its TLS
    # connection open and make the server's shutdown wait for it.
    session.headers["Connection"] = "close"


@dataclass
class RunningSalesforce:
    server: ThreadedServer
    cert: Path
    http: requests.Session = field(default_factory=requests.Session)
    sessions: list[requests.Session] = field(default_factory=list)

    def __post_init__(self) -> None:
        _trust(self.http, self.cert)

    @property
    def url(self) -> str:
        return self.server.url

    def token(self, user: tuple[str, str, str, str] = ADMIN_USER) -> str:
        """An access token from the password grant."""
        response = self.http.post(
            f"{self.url}/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "username": user[0],
                "password": user[1],
            },
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def alice_token(self) -> str:
        return self.token(ALICE_USER)

    def api(
        self, method: str, path: str, token: str, *, client: str | None = None, **kwargs: Any
    ) -> requests.Response:
        """A raw REST API call (path relative to /services/data/v60.0)."""
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        if client:
            headers["Sforce-Call-Options"] = f"client={client}"
        return self.http.request(method, f"{self.url}{API}{path}", headers=headers, **kwargs)

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"{self.url}/__emulator__{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    def bulk(self, sobject: str, records: list[dict[str, Any]], **extra: Any) -> list[str]:
        """Insert records fast through the admin route (not the API under test)."""
        body = self.admin("POST", "/records", json={"type": sobject, "records": records, **extra})
        return list(body["ids"])

    def simple(self, token: str | None = None) -> Any:
        """The unmodified simple-salesforce client, on our own OAuth token.

        Typed Any: its attribute access (`client.Task`) is dynamic."""
        session = requests.Session()
        _trust(session, self.cert)
        self.sessions.append(session)
        return Salesforce(
            session_id=token or self.token(), instance_url=self.url, session=session, version="60.0"
        )

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "salesforce_url": self.url,
            "salesforce_ca_bundle": self.cert,
            "client_name": "sfpms",
        }
        values.update(overrides)
        return Settings(**values)


@contextmanager
def running_salesforce(cert_dir: Path, **config: Any) -> Iterator[RunningSalesforce]:
    from emulators.salesforce import ensure_certificate

    cert, key = ensure_certificate(cert_dir)
    config.setdefault("seed", False)
    app = create_app(SalesforceEmulatorConfig(**config))
    with serve_in_thread(app, certfile=cert, keyfile=key) as server:
        running = RunningSalesforce(server, cert)
        try:
            yield running
        finally:
            for session in (running.http, *running.sessions):
                session.close()
            # A client still holding a TLS keep-alive connection would make uvicorn wait for
            # its close_notify until the thread join gives up; bound that wait.
            server.server.config.timeout_graceful_shutdown = 2
