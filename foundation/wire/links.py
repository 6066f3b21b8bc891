"""Link events between a hub and the routing side.

A hub announces on `sfpms.routes` (keyed by the Custompms id): `linked` (a record it created,
or whose Salesforce twin it is: owned without question), `claimed` (an existing record the
onboarding match found: owned only once accepted) or `unlinked` (a delete rule). The routing
side answers a claim on `sfpms.inbox` (keyed by the hub): `accepted` or `refused`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from foundation.wire.values import millis_required

LinkAction = Literal["linked", "claimed", "unlinked", "accepted", "refused"]


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """schemas/sfpms.LinkEvent.avsc"""

    pms_id: str
    pms_entity: str
    link_key: str
    flow: str
    action: LinkAction
    at: int
    reason: str | None = None

    def to_avro(self) -> dict[str, Any]:
        return {
            "pms_id": self.pms_id,
            "pms_entity": self.pms_entity,
            "link_key": self.link_key,
            "flow": self.flow,
            "action": self.action,
            "reason": self.reason,
            "at": self.at,
        }

    @classmethod
    def from_avro(cls, data: Mapping[str, Any]) -> LinkEvent:
        return cls(
            pms_id=data["pms_id"],
            pms_entity=data["pms_entity"],
            link_key=data["link_key"],
            flow=data["flow"],
            action=data["action"],
            at=millis_required(data["at"]),
            reason=data.get("reason"),
        )
