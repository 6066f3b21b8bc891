"""People's clients for the fault tests: alice in Salesforce, the person token in Custompms.

The fault tests make the emulators fail on purpose (5xx, 429, dropped connections, expired
tokens, and requests carried out whose answer is then dropped), and a person's edit must
still happen exactly once. Both clients therefore retry until the server answers, the way
a careful client must when a write may have happened: updates are idempotent; a delete
answered 404 on a retry is done; a Custompms create carries an Idempotency-Key; a
Salesforce create whose answer was lost looks its record up by its (unique, tagged) name
before sending it again.
Every request carries `X-Sfpms-Test: person`, so a request recorder can tell people's
calls from the sync's.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import requests

from connectors.salesforce.formats import soql_quote
from emulators.salesforce.config import ALICE_USER, CLIENT_ID

API = "/services/data/v60.0"
TEST_HEADER = "X-Sfpms-Test"
#: Bounded: a person gives up after this many failed tries (the test then fails loudly).
MAX_TRIES = 60


class PersonError(AssertionError):
    """A person's request kept failing; the test cannot go on."""


class _Unanswered(Exception):
    """A write whose answer never came: it may or may not have been carried out."""


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

    def _send(
        self, method: str, url: str, *, auth: bool = True, resend: bool = True, **kwargs: Any
    ) -> Any:
        for attempt in range(1, MAX_TRIES + 1):
            headers = {"Authorization": f"Bearer {self.token}"} if auth and self.token else {}
            try:
                response = self.session.request(method, url, headers=headers, timeout=30, **kwargs)
            except requests.RequestException as exc:
                if not resend:
                    raise _Unanswered(f"{method} {url}") from exc
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

    def call(self, method: str, path: str, *, missing_ok: bool = False, **kwargs: Any) -> Any:
        """A REST call (path relative to /services/data/v60.0); 4xx raise PersonError."""
        if self.token is None:
            self._login()
        response = self._send(method, f"{self.url}{API}{path}", **kwargs)
        if missing_ok and response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise PersonError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None

    def create(self, sobject: str, fields: dict[str, Any]) -> str:
        """Create; if the answer is lost, find the record by its name before trying again."""
        name = "Subject" if "Subject" in fields else "Name"
        for attempt in range(1, MAX_TRIES + 1):
            try:
                return str(
                    self.call("POST", f"/sobjects/{sobject}", json=fields, resend=False)["id"]
                )
            except _Unanswered:
                value = soql_quote(str(fields[name]))
                found = self.query(f"SELECT Id FROM {sobject} WHERE {name} = {value}")  # noqa: S608
                if found:
                    return str(found[0]["Id"])
                _pause(attempt, None)
        raise PersonError(f"creating a {sobject} failed {MAX_TRIES} times")

    def update(self, sobject: str, record_id: str, fields: dict[str, Any]) -> None:
        self.call("PATCH", f"/sobjects/{sobject}/{record_id}", json=fields)

    def delete(self, sobject: str, record_id: str) -> None:
        # 404 on a retry: the first try deleted it and its answer was lost.
        self.call("DELETE", f"/sobjects/{sobject}/{record_id}", missing_ok=True)

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
        key = {"Idempotency-Key": uuid.uuid4().hex}  # a retry after a lost answer is the same
        return str(self.call("POST", f"/{resource}", json=body, headers=key)["id"])

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
