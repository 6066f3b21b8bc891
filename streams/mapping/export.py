"""Flows as plain, JSON-ready data (for `sfpms flows --json` and other tools)."""

from __future__ import annotations

from typing import Any

from streams.mapping.table import DeleteRule, FieldRow, Flow


def _rule(rule: DeleteRule) -> dict[str, Any]:
    return {"action": rule.action.value, "patch": rule.patch}


def row_as_dict(row: FieldRow) -> dict[str, Any]:
    """One row: fields, type, direction and each converter's description (None if absent)."""
    return {
        "sf_field": row.sf_field,
        "pms_field": row.pms_field,
        "pms_type": row.pms_type,
        "direction": row.direction.value,
        "to_pms": row.to_pms.describe() if row.to_pms else None,
        "to_sf": row.to_sf.describe() if row.to_sf else None,
        "lossy": row.lossy,
        "note": row.note or None,
        "where": row.where or None,
    }


def flow_as_dict(flow: Flow) -> dict[str, Any]:
    """One flow with its rows and policies."""
    return {
        "name": flow.name,
        "title": flow.title,
        "sf_object": flow.sf_object,
        "pms_resource": flow.pms_resource,
        "rows": [row_as_dict(row) for row in flow.rows],
        "policies": {
            "create_in_pms": flow.create_in_pms,
            "create_in_sf": flow.create_in_sf,
            "match_on": list(flow.match_on),
            "pms_default": flow.pms_default,
            "sf_deleted": _rule(flow.delete_policy.sf_deleted),
            "pms_deleted": _rule(flow.delete_policy.pms_deleted),
            "requires": [{"field": f, "flow": other} for f, other in flow.requires],
            "existing_records": flow.existing_records,
            "onboarding_match": [
                {"salesforce": p.sf_field, "custompms": p.pms_field} for p in flow.match
            ],
            "scope": {
                "salesforce": flow.scope.sf_condition,
                "custompms": {path: list(values) for path, values in flow.scope.pms_filter},
                "when_leaving": flow.scope.when_leaving,
            },
        },
        "where": flow.where or None,
    }
