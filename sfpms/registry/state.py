"""The registry's state as a pure fold over `_schemas` records; no I/O here.

Record shapes follow Confluent's `_schemas` topic: the key is JSON
`{"keytype": "SCHEMA", "subject", "version", "magic": 1}` or `{"keytype": "CONFIG", "subject"
(null for global), "magic": 0}`; the value is the schema or config JSON, or null (tombstone).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sfpms.registry.compat import canonical

DEFAULT_LEVEL = "BACKWARD"


@dataclass(slots=True)
class Version:
    subject: str
    version: int
    schema_id: int
    schema: str
    deleted: bool = False


@dataclass
class RegistryState:
    """Subjects, versions, ids and compatibility config, rebuilt from the log on start."""

    versions: dict[str, dict[int, Version]] = field(default_factory=dict)
    schemas_by_id: dict[int, str] = field(default_factory=dict)
    ids_by_canonical: dict[str, int] = field(default_factory=dict)
    global_level: str = DEFAULT_LEVEL
    subject_levels: dict[str, str] = field(default_factory=dict)

    def apply(self, key: bytes, value: bytes | None) -> None:
        """Fold one `_schemas` record into the state. Unknown key types are ignored."""
        k = json.loads(key)
        if k.get("keytype") == "SCHEMA":
            subject, version = str(k["subject"]), int(k["version"])
            if value is None:
                self.versions.get(subject, {}).pop(version, None)
                return
            v = json.loads(value)
            entry = Version(subject, version, int(v["id"]), v["schema"], bool(v.get("deleted")))
            self.versions.setdefault(subject, {})[version] = entry
            self.schemas_by_id[entry.schema_id] = entry.schema
            self.ids_by_canonical.setdefault(canonical(entry.schema), entry.schema_id)
        elif k.get("keytype") == "CONFIG":
            subject = k.get("subject")
            level = json.loads(value)["compatibilityLevel"] if value is not None else None
            if subject is None:
                self.global_level = level or DEFAULT_LEVEL
            elif level is None:
                self.subject_levels.pop(subject, None)
            else:
                self.subject_levels[subject] = level

    # -- queries -----------------------------------------------------------------------------
    def live_versions(self, subject: str) -> list[Version]:
        return sorted(
            (v for v in self.versions.get(subject, {}).values() if not v.deleted),
            key=lambda v: v.version,
        )

    def subjects(self) -> list[str]:
        return sorted(s for s in self.versions if self.live_versions(s))

    def level_for(self, subject: str) -> str:
        return self.subject_levels.get(subject, self.global_level)

    def find(self, subject: str, schema: str) -> Version | None:
        wanted = canonical(schema)
        for v in self.live_versions(subject):
            if canonical(v.schema) == wanted:
                return v
        return None

    def next_id(self, schema: str) -> int:
        """The id for `schema`: the existing one if any subject has it, else max + 1."""
        existing = self.ids_by_canonical.get(canonical(schema))
        if existing is not None:
            return existing
        return max(self.schemas_by_id, default=0) + 1

    def next_version(self, subject: str) -> int:
        return max(self.versions.get(subject, {}), default=0) + 1


def schema_record(v: Version) -> tuple[bytes, bytes]:
    key = {"keytype": "SCHEMA", "subject": v.subject, "version": v.version, "magic": 1}
    value: dict[str, Any] = {
        "subject": v.subject,
        "version": v.version,
        "id": v.schema_id,
        "schema": v.schema,
        "deleted": v.deleted,
    }
    return json.dumps(key).encode(), json.dumps(value).encode()


def config_record(subject: str | None, level: str) -> tuple[bytes, bytes]:
    key = {"keytype": "CONFIG", "subject": subject, "magic": 0}
    return json.dumps(key).encode(), json.dumps({"compatibilityLevel": level}).encode()
