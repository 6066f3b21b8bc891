"""People's clients for the fault tests: alice in Salesforce, the person token in Custompms.

The fault tests make the emulators fail on purpose (5xx, 429, dropped connections, expired
tokens), and a person's edit must still happen exactly once. Both clients therefore retry
until the server answers: injected faults are decided before the emulator's handler runs,
so a request that failed was never carried out and sending it again cannot duplicate it.
Every request carries `X-Sfpms-Test: person`, so a request recorder can tell people's
calls from the sync's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import requests

from emulators.salesforce.config import ALICE_USER, CLIENT_ID

API = "/services/data/v60.0"
TEST_HEADER = "X-Sfpms-Test"
#: Bounded: a person gives up after this many failed tries (the test then fails loudly).
MAX_TRIES = 60


class PersonError(AssertionError):
    """A person's request kept failing; the test cannot go on."""


def _pause(attempt: int, retry_after: str | None) -> None:
    if retry_after is not None:
        try:
            time.sleep(min(float(retry_after), 5.0))
            return
        except ValueError:
            pass
    time.sleep(min(0.05 * attempt, 0.5))


class SfPerson:
    """Salesforce REST calls as a person (password grant), retried through faults."""

    def __init__(
        self,
        url: str,
        cert: Path,
        *,
        username: str = ALICE_USER[0],
        password: str = ALICE_USER[1],
        client_secret: str | None = None,
    ) -> None:
        from emulators.salesforce import oauth

        self.url = url
        self.username = username
        self.password = password
        # The emulator reads its client secret at request time (tests may replace it).
        self.client_secret = client_secret or oauth.CLIENT_SECRET
        self.session = requests.Session()
        self.session.verify = str(cert)
        self.session.trust_env = False
        self.session.headers[TEST_HEADER] = "person"
        self.token: str | None = None

    def close(self) -> None:
        self.session.close()

    def _login(self) -> None:
        form = {
            "grant_type": "password",
            "client_id": CLIENT_ID,
            "client_secret": self.client_secret,
            "username": self.username,
            "password": self.password,
        }
        response = self._send("POST", f"{self.url}/services/oauth2/token", data=form, auth=False)
        if response.status_code != 200:
            raise PersonError(f"{self.username} could not log in: {response.status_code}")
        self.token = str(response.json()["access_token"])

    def _send(self, method: str, url: str, *, auth: bool = True, **kwargs: Any) -> Any:
        for attempt in range(1, MAX_TRIES + 1):
            headers = {"Authorization": f"Bearer {self.token}"} if auth and self.token else {}
            try:
                response = self.session.request(method, url, headers=headers, timeout=30, **kwargs)
            except requests.RequestException:
                _pause(attempt, None)
                continue
            if response.status_code == 429 or response.status_code >= 500:
                _pause(attempt, response.headers.get("retry-after"))
                continue
            if auth and response.status_code == 401:
                self._login()
                continue
            return response
        raise PersonError(f"{method} {url} failed {MAX_TRIES} times")

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """A REST call (path relative to /services/data/v60.0); 4xx raise PersonError."""
        if self.token is None:
            self._login()
        response = self._send(method, f"{self.url}{API}{path}", **kwargs)
        if response.status_code >= 400:
            raise PersonError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None

    def create(self, sobject: str, fields: dict[str, Any]) -> str:
        return str(self.call("POST", f"/sobjects/{sobject}", json=fields)["id"])

    def update(self, sobject: str, record_id: str, fields: dict[str, Any]) -> None:
        self.call("PATCH", f"/sobjects/{sobject}/{record_id}", json=fields)

    def delete(self, sobject: str, record_id: str) -> None:
        self.call("DELETE", f"/sobjects/{sobject}/{record_id}")

    def query(self, soql: str) -> list[dict[str, Any]]:
        """Every row of a SOQL query, following nextRecordsUrl (bounded)."""
        page = self.call("GET", "/query", params={"q": soql})
        rows = list(page["records"])
        for _ in range(1000):
            next_url = page.get("nextRecordsUrl")
            if not next_url:
                return rows
            page = self.call("GET", next_url.removeprefix(API))
            rows += page["records"]
        raise PersonError(f"query did not end: {soql}")


class PmsPerson:
    """Custompms API calls with a person's token, retried through faults."""

    def __init__(self, url: str, token: str) -> None:
        self.http = httpx.Client(
            base_url=f"{url}/api/v1",
            headers={"Authorization": f"Bearer {token}", TEST_HEADER: "person"},
            timeout=30,
        )

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call; 404 returns None, other 4xx raise PersonError."""
        for attempt in range(1, MAX_TRIES + 1):
            try:
                response = self.http.request(method, path, **kwargs)
            except httpx.HTTPError:
                _pause(attempt, None)
                continue
            if response.status_code == 429 or response.status_code >= 500:
                _pause(attempt, response.headers.get("retry-after"))
                continue
            if response.status_code == 404:
                return None
            if response.status_code >= 400:
                raise PersonError(f"{method} {path}: {response.status_code} {response.text[:300]}")
            return response.json() if response.content else None
        raise PersonError(f"{method} {path} failed {MAX_TRIES} times")

    def create(self, resource: str, body: dict[str, Any]) -> str:
        return str(self.call("POST", f"/{resource}", json=body)["id"])

    def update(self, resource: str, record_id: str, body: dict[str, Any]) -> None:
        self.call("PATCH", f"/{resource}/{record_id}", json=body)

    def delete(self, resource: str, record_id: str, *, cascade: bool = False) -> None:
        params = {"cascade": "true"} if cascade else {}
        self.call("DELETE", f"/{resource}/{record_id}", params=params)

    def items(self, resource: str) -> Iterator[dict[str, Any]]:
        """Every live record of a resource, following the cursor (bounded)."""
        cursor: str | None = None
        for _ in range(1000):
            params: dict[str, Any] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            page = self.call("GET", f"/{resource}", params=params)
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return
        raise PersonError(f"listing {resource} did not end")
