"""Creating twins: a Salesforce record a person made gets its Custompms record per flow."""

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
    if any(hub.linked(other) is None for _ref, other in flow.requires):
        return  # the reference (e.g. the Project of a Task) is not linked yet
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
        )
    )
