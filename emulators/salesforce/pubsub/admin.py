"""Emulator-only Pub/Sub routes under /__emulator__/pubsub (never part of Salesforce's API).

- `GET  /__emulator__/pubsub`: port, newest/oldest replay position, retained events,
  schema ids, fault counters, event delivery allocation used.
- `POST /__emulator__/pubsub/faults` `{"gap": N, "overflow": M}`: the next N Task changes
  come out as GAP_CREATE/GAP_UPDATE/GAP_DELETE events (header and record ids only), the
  next M after them are folded into one GAP_OVERFLOW event per transaction, as Salesforce
  does when it cannot produce full events. `DELETE` clears both.
- `GET  /__emulator__/pubsub/events?after=0`: the retained events, decoded (to inspect).
"""

from __future__ import annotations

import io
import json
from typing import Any

import fastavro
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from emulators.common.faults import ADMIN_PREFIX
from emulators.salesforce.context import emulator
from emulators.salesforce.errors import ApiError
from emulators.salesforce.pubsub.server import PubSub

router = APIRouter(prefix=f"{ADMIN_PREFIX}/pubsub", include_in_schema=False)


class PubSubFaults(BaseModel):
    gap: int = Field(0, ge=0)
    overflow: int = Field(0, ge=0)


def _pubsub(request: Request) -> PubSub:
    pubsub = emulator(request).pubsub
    if pubsub is None:
        raise ApiError.one(
            404, "NOT_FOUND", "The Pub/Sub API is not served; start the emulator with --pubsub-port"
        )
    return pubsub


def _faults(pubsub: PubSub) -> dict[str, int]:
    return {"gap": pubsub.bus.faults.gap, "overflow": pubsub.bus.faults.overflow}


@router.get("")
def info(request: Request) -> dict[str, Any]:
    pubsub = _pubsub(request)
    log = pubsub.bus.log
    return {
        "port": pubsub.server.port if pubsub.server else None,
        "tip": log.tip,
        "earliest": log.earliest(),
        "retained": len(log.all()),
        "retention_s": log.retention_s,
        "schemas": sorted(log.schemas),
        "faults": _faults(pubsub),
        "delivered_24h": pubsub.parts.allocation.used,
        "delivery_limit": pubsub.parts.allocation.limit,
    }


@router.post("/faults")
def set_faults(request: Request, faults: PubSubFaults) -> dict[str, int]:
    pubsub = _pubsub(request)
    with pubsub.bus.store.lock:  # the bus consumes the counters under this lock
        pubsub.bus.faults.gap = faults.gap
        pubsub.bus.faults.overflow = faults.overflow
    return _faults(pubsub)


@router.delete("/faults")
def clear_faults(request: Request) -> dict[str, int]:
    return set_faults(request, PubSubFaults())


@router.get("/events")
def events(request: Request, after: int = 0) -> dict[str, Any]:
    pubsub = _pubsub(request)
    out = []
    for event in pubsub.bus.log.all():
        if event.position <= after:
            continue
        schema = fastavro.parse_schema(json.loads(pubsub.bus.log.schemas[event.schema_id]))
        record = fastavro.schemaless_reader(io.BytesIO(event.payload), schema, None)
        out.append(
            {
                "position": event.position,
                "replay_id": event.replay_id.hex(),
                "schema_id": event.schema_id,
                "payload": record,
            }
        )
    return {"events": out}
