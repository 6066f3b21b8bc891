"""Configuration of the Custompms emulator and the limits its API contract promises."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from emulators.custompms.custom_fields import CustomFields
from foundation.settings import DEFAULT_CLIENT_NAME

API_PREFIX = "/api/v1"

#: token -> client name. The sync writes as `sfpms`; `demo-user` stands for a human.
DEFAULT_TOKENS: Mapping[str, str] = MappingProxyType(
    {"sfpms-local-token": DEFAULT_CLIENT_NAME, "sfpms-demo-token": "demo-user"}
)

#: The actor recorded on changes made by the seed data.
SEED_ACTOR = "seed"

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_BATCH_OPERATIONS = 100
MAX_IDEMPOTENCY_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class CustompmsEmulatorConfig:
    """How one emulator instance runs.

    `db_path=None` keeps everything in memory (lost when the process ends); otherwise the
    SQLite file is created if missing and reused across restarts.
    """

    db_path: Path | None = None
    tokens: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TOKENS))
    seed: bool = False
    seed_random: int = 7
    #: Custom fields per resource (`--custom-fields FILE`; see custom_fields.py).
    custom_fields: CustomFields = field(default_factory=CustomFields)

    @classmethod
    def in_memory(cls, *, seed: bool = False) -> CustompmsEmulatorConfig:
        """A throw-away instance with the default tokens."""
        return cls(db_path=None, seed=seed)

    @classmethod
    def in_dir(cls, data_dir: Path, *, seed: bool = False) -> CustompmsEmulatorConfig:
        """A durable instance keeping `custompms.db` in `data_dir`."""
        return cls(db_path=data_dir / "custompms.db", seed=seed)
