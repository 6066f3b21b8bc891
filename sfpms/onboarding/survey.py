"""Read both systems and the link table, and plan each flow's onboarding."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.cdc.changes import same_user
from connectors.cdc.fields import capture_fields
from connectors.cdc.reader import Captured, custompms_records, salesforce_pages
from connectors.cdc.scope import ScopeTagger, conditions_of
from connectors.custompms import CustompmsClient
from connectors.salesforce import SalesforceClient
from foundation.settings import Settings
from streams.core.hub import Hub
from streams.core.model import EXTERNAL_ID_FIELD
from streams.core.routes import Route
from streams.engine.replay import load_link_table
from streams.mapping.flows import flows_for_pms_record
from streams.mapping.onboarding import FlowPlan, PmsCandidate, SfCandidate, plan_flow
from streams.mapping.scope import in_sf_scope
from streams.mapping.table import Flow

#: progress(what is being read, records read so far)
Progress = Callable[[str, int], None]


@dataclass
class Survey:
    """What onboarding read, and its plan per flow (in dependency order)."""

    flows: Mapping[str, Flow]
    sf: dict[str, list[Captured]] = field(default_factory=dict)
    pms: dict[str, list[Captured]] = field(default_factory=dict)
    sync_user: str = ""
    plans: list[tuple[Flow, FlowPlan]] = field(default_factory=list)
    scope_queries: int = 0
    #: when the sync first started (None: it never has)
    first_start: datetime | None = None

    @property
    def unreadable(self) -> list[Captured]:
        every = [c for records in (*self.sf.values(), *self.pms.values()) for c in records]
        return [c for c in every if c.record is None]

    def sf_record(self, sobject: str, record_id: str) -> Captured | None:
        return next((c for c in self.sf.get(sobject, []) if c.id == record_id), None)


async def read_systems(settings: Settings, flows: Mapping[str, Flow], progress: Progress) -> Survey:
    """Every live record of every sObject and resource the flows use."""
    found = Survey(flows)
    async with SalesforceClient(settings) as sf, CustompmsClient(settings) as pms:
        found.sync_user = (await sf.identity()).user_id
        tagger = ScopeTagger(sf, conditions_of(flows.values()))
        for sobject in dict.fromkeys(flow.sf_object for flow in flows.values()):
            fields = await capture_fields(sf, sobject)
            records = found.sf[sobject] = []
            async for page in salesforce_pages(sf, sobject, fields, tagger):
                records += page
                progress(f"Salesforce {sobject}", len(records))
        for entity in dict.fromkeys(flow.pms_resource for flow in flows.values()):
            items = found.pms[entity] = []
            async for captured in custompms_records(pms, entity):
                items.append(captured)
                if len(items) % 500 == 0:
                    progress(f"Custompms {entity}", len(items))
            progress(f"Custompms {entity}", len(items))
        found.scope_queries = tagger.queries
    return found


def _sf_candidates(
    survey: Survey, flow: Flow, hubs: Mapping[str, Hub], creatable: bool
) -> list[SfCandidate]:
    out = []
    for captured in survey.sf.get(flow.sf_object, []):
        if captured.record is None:
            continue
        hub = hubs.get(captured.id)
        link = hub.links.get(flow.name) if hub is not None else None
        state = link.state if link is not None else None
        own = creatable and (
            (hub is not None and hub.born_by_sync)
            or bool(captured.record.get(EXTERNAL_ID_FIELD))
            or same_user(captured.record.get("LastModifiedById"), survey.sync_user)
        )
        out.append(
            SfCandidate(
                captured.id,
                captured.record,
                in_scope=in_sf_scope(captured.tags, flow.name),
                linked=state in ("linked", "pending"),
                by_sync_user=own,
                detached=state == "detached",
            )
        )
    return out


def _pms_candidates(survey: Survey, flow: Flow, routes: Mapping[str, Route]) -> list[PmsCandidate]:
    out = []
    for captured in survey.pms.get(flow.pms_resource, []):
        record = captured.record
        if record is None or flow not in flows_for_pms_record(
            flow.pms_resource, record, survey.flows
        ):
            continue
        route = routes.get(captured.id)
        state = route.state if route is not None else None
        # `awaiting` is a record the sync made whose claim is on its way, or an older one a
        # person edited before onboarding: only the latter is onboarding's to pair.
        waiting = state == "awaiting" and not _predates(record, survey.first_start)
        out.append(
            PmsCandidate(
                captured.id,
                record,
                in_scope=flow.scope.pms_matches(record),
                routed=state in ("linked", "creating") or waiting,
                detached=state == "detached",
            )
        )
    return out


def _predates(record: Mapping[str, Any], first_start: datetime | None) -> bool:
    created = record.get("created_at")
    return first_start is not None and isinstance(created, datetime) and created < first_start


def _first_start(settings: Settings) -> datetime | None:
    from connectors.cdc.positions import first_start, load_positions
    from foundation.kafka import topics as t
    from foundation.kafka.serde import TopicCodec, registry_client

    codec = TopicCodec(settings, registry_client(settings), t.SOURCE_POSITIONS)
    return first_start(load_positions(settings, codec))


def plan_all(survey: Survey, hubs: Mapping[str, Hub], routes: Mapping[str, Route]) -> Survey:
    """Fill `survey.plans` from what was read and the link table."""
    for flow in survey.flows.values():
        creatable = any(
            f.create_in_sf for f in survey.flows.values() if f.sf_object == flow.sf_object
        )
        sf = _sf_candidates(survey, flow, hubs, creatable)
        pms = _pms_candidates(survey, flow, routes)
        survey.plans.append((flow, plan_flow(flow, sf, pms)))
    return survey


async def survey(settings: Settings, flows: Mapping[str, Flow], progress: Progress) -> Survey:
    """Read both systems and the link table; plan every flow."""
    tables = await asyncio.to_thread(load_link_table, settings)
    found = await read_systems(settings, flows, progress)
    found.first_start = await asyncio.to_thread(_first_start, settings)
    return plan_all(found, tables.hubs, tables.routes)
