"""A real Custompms emulator on 127.0.0.1 for tests, with helpers for its admin routes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from emulators.custompms import CustompmsEmulatorConfig, create_app
from foundation.settings import Settings
from tests.support.servers import ThreadedServer

SYNC_TOKEN = "sfpms-local-token"
DEMO_TOKEN = "sfpms-demo-token"


@dataclass
class RunningEmulator:
    server: ThreadedServer

    @property
    def url(self) -> str:
        return self.server.url

    def http(self, token: str | None = SYNC_TOKEN) -> httpx.Client:
        """A plain client of /api/v1 authenticated with `token` (None: no header)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=f"{self.url}/api/v1", headers=headers, timeout=10)

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.url}/__emulator__{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def add_token(self, token: str, client: str) -> None:
        self.admin("POST", "/tokens", {"token": token, "client": client})

    def set_faults(self, **config: Any) -> None:
        self.admin("POST", "/faults", config)

    def clear_faults(self) -> None:
        self.admin("DELETE", "/faults")

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("GET", "/stats")
        return result

    def reset_stats(self) -> None:
        self.admin("DELETE", "/stats")

    def settings(self) -> Settings:
        """Settings pointing the sync's client at this emulator."""
        return Settings(custompms_url=self.url)


@contextmanager
def running_emulator(
    db_path: Path | None = None, *, seed: bool = False, custom_fields: Any = None
) -> Iterator[RunningEmulator]:
    """Serve a fresh emulator app (in memory unless `db_path`) until the block ends.

    `custom_fields`: parsed custom-fields configuration (a list of field declarations)."""
    from emulators.custompms.custom_fields import parse_custom_fields

    config = CustompmsEmulatorConfig(
        db_path=db_path, seed=seed, custom_fields=parse_custom_fields(custom_fields)
    )
    app = create_app(config)
    server = ThreadedServer(app)
    server.start()
    try:
        yield RunningEmulator(server)
    finally:
        server.stop()


def all_changes(client: httpx.Client) -> list[dict[str, Any]]:
    """The whole change feed, following `next`."""
    changes: list[dict[str, Any]] = []
    after = 0
    for _ in range(10_000):
        page = client.get("/changes", params={"after": after, "limit": 1000}).json()
        if not page["changes"]:
            return changes
        changes.extend(page["changes"])
        after = page["next"]
    raise AssertionError("change feed did not end")
