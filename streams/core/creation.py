"""Creating twins: a Salesforce record a person made gets its Custompms record per flow.

A flow whose record refers to another flow's record (a Task's project_id names the Project
of the same Salesforce Task) waits until that reference is linked, or travels with its
create: both creates then go to Custompms in one command, the Task's field filled with the
id the Project's create gets (`WriteIntent.refs`).
"""

from __future__ import annotations

from collections.abc import Mapping

from streams.core import lifecycle
from streams.core.desired import Problems, pms_desired
from streams.core.hub import Hub
from streams.core.model import Decision, WriteIntent
from streams.core.values import Scalar
from streams.mapping.table import Flow


def maybe_create(
    hub: Hub,
    flow: Flow,
    sf_wanted: Mapping[str, Scalar],
    now: int,
    decision: Decision,
    problems: Problems,
) -> None:
    """Create the flow's Custompms record for a Salesforce record a person made."""
    if not flow.create_in_pms or hub.born_by_sync:
        return
    refs: dict[str, str] = {}
    for ref_key, other in flow.requires:
        if hub.linked(other) is not None:
            continue  # desired state carries the linked record's id
        if not _created_with(decision, other):
            return  # the reference is neither linked nor created with this record
        refs[ref_key] = other
    local: Problems = {}
    fields = pms_desired(hub, flow, sf_wanted, local, hub.sf_id)
    if local:
        for key, problem in local.items():
            problems[("create", key[1])] = problem
        return
    attempt = hub.create_attempts.get(flow.name, 0)
    lifecycle.advance(hub, flow.name, "create_issued", since=now)
    decision.writes.append(
        WriteIntent(
            flow=flow.name,
            link_key=hub.sf_id,
            system="custompms",
            entity=flow.pms_resource,
            action="create",
            fields=fields,
            match={}
            if flow.name in hub.no_match
            else {k: str(fields[k]) for k in flow.match_on if fields.get(k) is not None},
            idempotency_key=f"{flow.name}:{hub.sf_id}:create:{attempt}",
            refs=refs,
        )
    )


def creation_order(flows: tuple[Flow, ...]) -> tuple[Flow, ...]:
    """Flows ordered so that a flow comes after the flows its records refer to."""
    return tuple(sorted(flows, key=lambda flow: len(flow.requires)))


def _created_with(decision: Decision, flow: str) -> bool:
    return any(
        w.system == "custompms" and w.action == "create" and w.flow == flow for w in decision.writes
    )
