"""Configuration of one emulator instance, and the identities it always provides."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from emulators.salesforce.schema import FieldDef

API_VERSION = "60.0"
#: Versions the emulator answers to; all behave as v60.0.
SUPPORTED_VERSIONS = tuple(f"{n}.0" for n in range(31, 61))

CLIENT_ID = "sfpms-local"
CLIENT_SECRET = "sfpms-local-secret"  # noqa: S105 - the emulator's published test secret

#: (username, password, first name, last name): the integration user and a human user.
ADMIN_USER = ("admin@sfpms.local", "sfpms-local-password", "SFPMS", "Integration")
ALICE_USER = ("alice@sfpms.local", "sfpms-alice", "Alice", "Example")


@dataclass(frozen=True, slots=True)
class SalesforceEmulatorConfig:
    """How to run the emulator.

    `db_path` None keeps everything in memory. `base_url` overrides the `instance_url`
    handed out by the token endpoint (default: the URL the client called). The other
    options are described in docs/salesforce-emulator.md.

    `pubsub_port` serves the Pub/Sub API (gRPC over TLS with `pubsub_certfile` /
    `pubsub_keyfile`) beside the REST API: None (default) serves none, 0 any free port.
    See docs/salesforce-emulator.md, "Pub/Sub API".
    """

    db_path: Path | None = None
    token_ttl_s: int = 7200
    api_daily_limit: int = 100_000
    seed: bool = True
    base_url: str | None = None
    seed_tasks: int = 300
    query_batch_size: int = 2000
    org_name: str = "SFPMS Emulated Org"
    #: The API usage window; Salesforce's is a rolling 24 hours.
    api_limit_window_s: float = 24 * 3600.0
    #: (object, field) pairs added to the standard objects (see custom_fields.py).
    custom_fields: tuple[tuple[str, FieldDef], ...] = ()
    #: PEM certificate of the connected app, for the JWT bearer grant (None: grant refused).
    jwt_certificate: Path | None = None
    #: How long a Bulk API 2.0 query job takes (half UploadComplete, half InProgress).
    bulk_job_delay_s: float = 1.0
    #: Records per Bulk API 2.0 results page when the client sends no maxRecords.
    bulk_page_size: int = 50_000
    #: DailyBulkV2QueryJobs: query jobs allowed per rolling window.
    bulk_daily_jobs: int = 10_000
    pubsub_port: int | None = None
    pubsub_certfile: Path | None = None
    pubsub_keyfile: Path | None = None
    #: Empty FetchResponse while requested events are owed but none arrive (Salesforce: 270 s).
    pubsub_keepalive_s: float = 270.0
    #: Stream closes when nothing is owed and no FetchRequest came for this long (60 s).
    pubsub_idle_timeout_s: float = 60.0
    #: How long change events stay replayable (Salesforce: 72 hours).
    event_retention_s: float = 72 * 3600.0
    #: Events delivered to API subscribers per rolling 24 hours (Unlimited Edition: 50,000).
    event_delivery_limit: int = 50_000
