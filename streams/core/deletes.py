"""Deletes: each flow's delete policy carried to the other side, then the pair is detached.

A detached link is never re-created: its Custompms record's route is detached too, so later
changes of either record are ignored (docs/mapping.md, "Deletes").
"""

from __future__ import annotations

from streams.core import lifecycle
from streams.core.hub import SF, Hub, PmsLink, Winner
from streams.core.known import issue
from streams.core.model import Decision, LinkEvent, WriteIntent
from streams.core.rules import Rules
from streams.core.values import canonical
from streams.mapping.table import DeleteAction, DeleteRule, Flow

#: The reason of the `unlinked` event a hub sends when an upsert found the Custompms
#: record's Salesforce twin deleted: the routing side then applies the flow's delete rule.
TWIN_DELETED = "twin deleted in Salesforce"
#: The routing side's answer to the hub that made a record and took it back from a match
#: claim (streams/core/routes.py).
TAKEN_BACK = "taken back from a match claim"


def sf_deleted(hub: Hub, rules: Rules, now: int, decision: Decision) -> None:
    """The hub's Salesforce record was deleted: apply each linked flow's rule."""
    hub.deleted = True
    for flow in rules.for_sf_object(hub.sf_object):
        link = hub.links.get(flow.name)
        # A pending link stays pending: its create may still land, and its result then gets
        # the delete policy (results.pms_created), so no record is left behind unlinked.
        if link is not None and link.state == "linked":
            apply_sf_delete_rule(hub, flow, link, now, decision)


def apply_sf_delete_rule(hub: Hub, flow: Flow, link: PmsLink, now: int, decision: Decision) -> None:
    """Carry a Salesforce delete to the linked Custompms record, then detach and unlink it."""
    assert link.pms_id is not None
    decision.writes.extend(sf_delete_writes(flow, hub.sf_id, link.pms_id))
    detach(hub, flow, link, now, decision)


def sf_delete_writes(flow: Flow, link_key: str, pms_id: str) -> list[WriteIntent]:
    """What the flow's rule for a deleted Salesforce record writes to its Custompms twin
    (unconditional: the twin's own later edits cannot bring the Salesforce record back)."""
    rule: DeleteRule = flow.delete_policy.sf_deleted
    if rule.action is DeleteAction.PROPAGATE:
        return [WriteIntent(flow.name, link_key, "custompms", flow.pms_resource, "delete", pms_id)]
    if rule.action is DeleteAction.DEACTIVATE:
        patch = {k: canonical(v) for k, v in rule.patch.items()}
        return [
            WriteIntent(
                flow.name, link_key, "custompms", flow.pms_resource, "update", pms_id, fields=patch
            )
        ]
    return []


def pms_deleted(hub: Hub, flow: Flow, link: PmsLink, ts: int, now: int, decision: Decision) -> None:
    """The flow's Custompms record was deleted: apply the flow's rule to Salesforce."""
    rule = flow.delete_policy.pms_deleted
    if not hub.deleted and rule.action is DeleteAction.PROPAGATE:
        decision.writes.append(
            WriteIntent(flow.name, hub.sf_id, "salesforce", hub.sf_object, "delete", hub.sf_id)
        )
    elif not hub.deleted and rule.action is DeleteAction.DEACTIVATE:
        patch = {k: canonical(v) for k, v in rule.patch.items()}
        issue(hub.sf_known, hub.sf_stale, patch)
        # The deactivation is the field's latest decision: it must win over the value the
        # deleted record set, or the next reconcile would write that value back.
        for name, value in patch.items():
            hub.winners[name] = Winner(SF, ts, value)
        decision.writes.append(
            WriteIntent(
                flow.name,
                hub.sf_id,
                "salesforce",
                hub.sf_object,
                "update",
                hub.sf_id,
                fields=patch,
                if_match=hub.sf_modstamp,
            )
        )
    detach(hub, flow, link, now, decision)


def detach(hub: Hub, flow: Flow, link: PmsLink, now: int, decision: Decision) -> None:
    """Detach the flow's link (final) and tell the routing side the pair is unlinked."""
    assert link.pms_id is not None
    lifecycle.advance(hub, flow.name, "detached")
    decision.links.append(
        LinkEvent(link.pms_id, flow.pms_resource, hub.sf_id, flow.name, "unlinked", now)
    )
