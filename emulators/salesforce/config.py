"""Configuration of one emulator instance, and the identities it always provides."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

API_VERSION = "60.0"
#: Versions the emulator answers to; all behave as v60.0.
SUPPORTED_VERSIONS = tuple(f"{n}.0" for n in range(31, 61))

CLIENT_ID = "sfpms-local"
CLIENT_SECRET = "sfpms-local-secret"  # noqa: S105 - the emulator's published test secret

#: (username, password, first name, last name): the integration user and a human user.
ADMIN_USER = ("admin@sfpms.local", "sfpms", "SFPMS", "Integration")
ALICE_USER = ("alice@sfpms.local", "sfpms-alice", "Alice", "Example")


@dataclass(frozen=True, slots=True)
class SalesforceEmulatorConfig:
    """How to run the emulator.

    `db_path` None keeps everything in memory. `base_url` overrides the `instance_url`
    handed out by the token endpoint (default: the URL the client called).
    """

    db_path: Path | None = None
    token_ttl_s: int = 7200
    api_daily_limit: int = 100_000
    seed: bool = True
    base_url: str | None = None
    seed_tasks: int = 300
    query_batch_size: int = 2000
    org_name: str = "SFPMS Emulated Org"
