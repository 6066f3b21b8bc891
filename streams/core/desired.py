"""Desired state: what each side of a hub should hold, derived from the field winners.

The winner's own value on the winner's side, the converted value on every other side. A lossy
row (Deferred -> on_hold) therefore never rewrites its source. Conversion problems are
collected per (side, field) so the caller reports each once.
"""

from __future__ import annotations

from collections.abc import Mapping

from foundation.errors import SyncError
from streams.core.hub import SF, Hub, Winner
from streams.core.model import Problem
from streams.core.rules import Rules, sf_row
from streams.core.values import Scalar, canonical
from streams.mapping.apply import convert_to_pms, convert_to_sf
from streams.mapping.table import Flow

#: Conversion problems found while deriving desired state, by (side or "create:<flow>", field).
Problems = dict[tuple[str, str | None], Problem]


def baseline_winners(hub: Hub, rules: Rules) -> None:
    """Two-way fields nobody has edited yet but whose sides disagree (a record linked by an
    onboarding match, or whose first change went to another link in a race): the newer
    record wins, ties to the precedence system, so the pair still converges."""
    for flow in rules.for_sf_object(hub.sf_object):
        link = hub.linked(flow.name)
        if link is None:
            continue
        for row in flow.rows:
            name = row.sf_field
            if name is None or not (row.writes_sf and row.writes_pms) or name in hub.winners:
                continue
            if name not in hub.sf_known or row.key not in link.known:
                continue
            sf_value, pms_value = hub.sf_known[name], link.known[row.key]
            try:
                if canonical(convert_to_pms(flow, row, sf_value, hub.sf_id)) == pms_value:
                    continue
                if canonical(convert_to_sf(flow, row, pms_value, hub.sf_id)) == sf_value:
                    continue
            except SyncError:
                continue
            sf_ts, pms_ts = hub.sf_modstamp or 0, link.modstamp or 0
            pms_newer = pms_ts > sf_ts or (pms_ts == sf_ts and rules.precedence == "custompms")
            hub.winners[name] = (
                Winner(flow.name, pms_ts, pms_value) if pms_newer else Winner(SF, sf_ts, sf_value)
            )


def sf_desired(hub: Hub, rules: Rules, problems: Problems) -> dict[str, Scalar]:
    """Per Salesforce field with a winner: the value Salesforce should hold."""
    desired: dict[str, Scalar] = {}
    for name, winner in hub.winners.items():
        if winner.source == SF:
            desired[name] = winner.value
            continue
        flow = rules.flows.get(winner.source)
        row = sf_row(flow, name) if flow is not None else None
        if flow is None or row is None or not row.writes_sf:
            continue
        try:
            desired[name] = canonical(convert_to_sf(flow, row, winner.value, hub.sf_id))
        except SyncError as exc:
            problems[("sf", name)] = problem(flow.name, hub.sf_id, name, exc)
    return desired


def pms_desired(
    hub: Hub,
    flow: Flow,
    sf_wanted: Mapping[str, Scalar],
    problems: Problems,
    record_id: str,
) -> dict[str, Scalar]:
    """The values the flow's Custompms record should hold (rows with something to say).
    References to other flows' records are included where those records are linked."""
    desired: dict[str, Scalar] = {}
    for row in flow.rows_to_pms:
        if row.is_constant:
            assert row.to_pms is not None
            desired[row.key] = canonical(row.to_pms(None))
            continue
        assert row.sf_field is not None
        winner = hub.winners.get(row.sf_field)
        if winner is None:
            continue
        if winner.source == flow.name:
            desired[row.key] = winner.value
            continue
        if row.sf_field not in sf_wanted:
            continue
        try:
            value = convert_to_pms(flow, row, sf_wanted[row.sf_field], record_id)
            desired[row.key] = canonical(value)
        except SyncError as exc:
            problems[(flow.name, row.sf_field)] = problem(flow.name, record_id, row.key, exc)
    for ref_key, other_flow in flow.requires:
        other = hub.linked(other_flow)
        if other is not None:
            desired[ref_key] = other.pms_id
    return desired


def problem(flow: str, record: str, field_name: str | None, exc: SyncError) -> Problem:
    """A dead-letter reason for a value the mapping could not convert."""
    return Problem(
        flow=flow,
        record=record,
        field=exc.field or field_name,
        error_class=type(exc).__name__,
        reason=exc.describe(),
    )
