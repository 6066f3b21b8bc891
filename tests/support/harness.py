"""Test-harness settings (which broker to test against) and helpers for unique names."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class HarnessSettings(BaseSettings):
    """`SFPMS_TEST_BROKER` picks the embedded engine; `SFPMS_KAFKA_BOOTSTRAP` an external Kafka."""

    model_config = SettingsConfigDict(env_prefix="SFPMS_", extra="ignore")

    test_broker: Literal["noida-db", "tansu"] = "noida-db"
    kafka_bootstrap: str | None = None


def unique_prefix(label: str = "t") -> str:
    """A topic prefix no other test uses."""
    return f"{label}-{uuid.uuid4().hex[:10]}."
