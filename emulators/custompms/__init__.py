"""The Custompms API emulator: a FastAPI app over a durable SQLite store.

The contract is described in docs/custompms-api.md.
"""

from __future__ import annotations

from emulators.custompms.app import create_app
from emulators.custompms.config import CustompmsEmulatorConfig

__all__ = ["CustompmsEmulatorConfig", "create_app"]
