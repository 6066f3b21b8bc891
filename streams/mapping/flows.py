"""The flows in effect and look-ups by Salesforce object / Custompms record.

`FLOWS` is the shipped mapping (`config/mapping.yaml`), loaded once; processes that honour
`SFPMS_MAPPING_FILE` load theirs with `streams.mapping.loader.load_mapping` and pass its
flows on (`Rules.flows`). The look-ups take the flows to search, defaulting to `FLOWS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from foundation.errors import ConfigError
from streams.mapping.apply import get_path
from streams.mapping.loader import load_mapping
from streams.mapping.table import Flow


def _registry(*flows: Flow) -> Mapping[str, Flow]:
    """A read-only registry, checked: unique names, dependency order, one default flow."""
    seen: dict[str, Flow] = {}
    for flow in flows:
        if flow.name in seen:
            raise ConfigError("two flows share this name", flow=flow.name)
        for ref_field, other in flow.requires:
            if other not in seen:
                raise ConfigError(
                    f"reference {ref_field} requires flow {other!r}, which must come first",
                    flow=flow.name,
                )
        if flow.pms_default and any(
            f.pms_default and f.pms_resource == flow.pms_resource for f in seen.values()
        ):
            raise ConfigError(f"two default flows for {flow.pms_resource}", flow=flow.name)
        seen[flow.name] = flow
    return MappingProxyType(seen)


def registry(flows: Iterable[Flow]) -> Mapping[str, Flow]:
    """`_registry` over an iterable (a loaded mapping's flows)."""
    return _registry(*flows)


#: flow name -> Flow of the shipped mapping. Read-only; order is dependency order.
FLOWS: Mapping[str, Flow] = registry(load_mapping().flows.values())


def _flows(flows: Mapping[str, Flow] | None) -> Iterable[Flow]:
    return (FLOWS if flows is None else flows).values()


def flows_for_sf_object(name: str, flows: Mapping[str, Flow] | None = None) -> tuple[Flow, ...]:
    """Flows fed by a Salesforce object ("Task" feeds task_project, then task_task)."""
    return tuple(flow for flow in _flows(flows) if flow.sf_object == name)


def flows_for_pms_resource(name: str, flows: Mapping[str, Flow] | None = None) -> tuple[Flow, ...]:
    """Flows fed by a Custompms resource ("customer" feeds both Customer flows)."""
    return tuple(flow for flow in _flows(flows) if flow.pms_resource == name)


def _claims(flow: Flow, pms_record: Mapping[str, Any]) -> bool:
    return all(get_path(pms_record, path) == value for path, value in flow.constants.items())


def flows_for_pms_record(
    resource: str, pms_record: Mapping[str, Any], flows: Mapping[str, Flow] | None = None
) -> tuple[Flow, ...]:
    """The flows a Custompms record takes part in.

    Those of its resource whose constants it carries (a Customer of kind "organization" belongs
    to organization_customer); if none claims it, the resource's default flow (any other
    Customer, whatever its kind, belongs to division_customer). Scope is not applied here
    (see `Flow.scope`).
    """
    candidates = flows_for_pms_resource(resource, flows)
    claimed = tuple(
        flow for flow in candidates if flow.constants and _claims(flow, pms_record)
    ) or tuple(flow for flow in candidates if not flow.constants)
    return claimed or tuple(flow for flow in candidates if flow.pms_default)


def belongs_to_flow(
    flow: Flow, pms_record: Mapping[str, Any], flows: Mapping[str, Flow] | None = None
) -> bool:
    """True when `flow` is one of `flows_for_pms_record` for this record."""
    return flow in flows_for_pms_record(flow.pms_resource, pms_record, flows)
