"""Readiness of a sink process: its broker, its registry and the APIs it writes to."""

from __future__ import annotations

from collections.abc import Iterable

from foundation.health import Readiness, dependency_checks
from foundation.settings import Settings


def sink_readiness(settings: Settings, systems: Iterable[str]) -> Readiness:
    """`/readyz` of `sfpms sink run --system ...`."""
    chosen = set(systems)
    return Readiness(
        dependency_checks(
            settings,
            registry=True,
            salesforce="salesforce" in chosen,
            custompms="custompms" in chosen,
        )
    )
