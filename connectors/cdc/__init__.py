"""Change data capture: every change in Salesforce and Custompms, as Avro change envelopes
on Kafka, resumable from stored source positions (see docs/cdc.md)."""

from __future__ import annotations

from connectors.cdc.metrics import CdcMetrics
from connectors.cdc.runner import EntityRef, resolve_entity, run_cdc, run_snapshot
from foundation.settings import CaptureSettings

__all__ = [
    "CaptureSettings",
    "CdcMetrics",
    "EntityRef",
    "resolve_entity",
    "run_cdc",
    "run_snapshot",
]
