"""Render the data-flow reference (docs/dataflow.rst) from the flows of a mapping file.

The document is generated so it cannot drift from the mapping: `sfpms docs dataflow` writes it
and a unit test fails when the committed file differs from this rendering.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from streams.mapping.converters import Constant, EnumMap, LinkedId, Text
from streams.mapping.table import DeleteAction, DeleteRule, Direction, FieldRow, Flow

TITLE = "Salesforce to Custompms Dataflow"

INTRODUCTION = """\
sfpms keeps Salesforce and Custompms in sync in both directions. A change made on either side
is captured as a change event, carried through Kafka and written to the other system. Records
on the two sides are paired by a link that sfpms keeps; once two records are linked, an edit on
either side reaches the other, and the edits sfpms makes itself are recognised and not sent
back.

Each section below describes one flow: a Salesforce object, the Custompms resource it is
synchronized with, the properties carried between them, and what happens when a record is
created or deleted on either side. Properties are carried both ways unless the text under the
table names them as one-way. Nested Custompms properties are written with dots
(``address.city`` is the ``city`` of the ``address``).

This document is generated from the mapping file ``{source}`` by
``sfpms docs dataflow``; change the file, not this document."""


def _heading(text: str, char: str, *, overline: bool = False) -> list[str]:
    rule = char * len(text)
    return [rule, text, rule, ""] if overline else [text, rule, ""]


def _lit(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return f"``{text}``"


def _data_type(row: FieldRow, labels: dict[str, str]) -> str:
    if isinstance(row.to_pms, Constant):
        return f"string, always {_lit(row.to_pms.value)}"
    if isinstance(row.to_pms, LinkedId):
        return f"reference (id of the linked Custompms {labels.get(row.to_pms.via_flow, '')})"
    if row.pms_type == "string":
        return (
            f"string (max. {row.to_pms.max_length})" if isinstance(row.to_pms, Text) else "string"
        )
    if row.pms_type == "enum":
        values: list[str] = []
        for conv, use_sources in ((row.to_sf, True), (row.to_pms, False)):
            if isinstance(conv, EnumMap):
                values += conv.sources if use_sources else conv.targets
        return "enum: " + ", ".join(_lit(v) for v in dict.fromkeys(values))
    return {"datetime": "date-time (UTC)"}.get(row.pms_type, row.pms_type)


def _sf_cell(row: FieldRow) -> str:
    if row.is_constant:
        return "(none: constant)"
    if row.is_reference:
        return "(none: linked record)"
    return row.sf_field or ""


def _table(flow: Flow, labels: dict[str, str]) -> list[str]:
    lines = [".. list-table::", "   :header-rows: 1", "   :widths: 30 30 40", ""]
    header = (
        f"Salesforce {flow.sf_object} Property",
        f"Custompms {flow.pms_label} Property",
        "Custompms Data Type",
    )
    for cells in (header, *((_sf_cell(r), r.pms_field, _data_type(r, labels)) for r in flow.rows)):
        lines.append(f"   * - {cells[0]}")
        lines += [f"     - {cell}" for cell in cells[1:]]
    return [*lines, ""]


def _one_way(flow: Flow, labels: dict[str, str]) -> list[str]:
    items = []
    for row in flow.rows:
        if row.direction is Direction.BOTH:
            continue
        if row.is_constant and isinstance(row.to_pms, Constant):
            what = f"{_lit(row.pms_field)} is always {_lit(row.to_pms.value)} in Custompms."
        elif row.is_reference and isinstance(row.to_pms, LinkedId):
            via = row.to_pms.via_flow
            what = (
                f"{_lit(row.pms_field)} is the Custompms {labels.get(via, via)} linked to the "
                f"same Salesforce {flow.sf_object} (flow {_lit(via)})."
            )
        elif row.direction is Direction.SF_TO_PMS:
            what = f"{_lit(row.sf_field)} to {_lit(row.pms_field)}: Salesforce to Custompms only."
        else:
            what = f"{_lit(row.pms_field)} to {_lit(row.sf_field)}: Custompms to Salesforce only."
        items.append(f"- {what} {row.note}".rstrip())
    return [".. rubric:: One-way properties", "", *items, ""] if items else []


def _value_maps(flow: Flow) -> list[str]:
    items = []
    for row in flow.rows:
        for conv, way in (
            (row.to_pms, "Salesforce to Custompms"),
            (row.to_sf, "Custompms to Salesforce"),
        ):
            if isinstance(conv, EnumMap):
                pairs = "; ".join(f"{_lit(a)} becomes {_lit(b)}" for a, b in conv.pairs)
                items.append(f"- {_lit(row.sf_field)} / {_lit(row.pms_field)}, {way}: {pairs}.")
        if row.lossy and row.note:
            items.append(f"- {row.note}")
    return [".. rubric:: Value mappings", "", *items, ""] if items else []


def _delete_sentence(rule: DeleteRule, deleted: str, linked: str) -> str:
    if rule.action is DeleteAction.PROPAGATE:
        return f"Deleting a {deleted} deletes the linked {linked}."
    if rule.action is DeleteAction.UNLINK:
        return f"Deleting a {deleted} removes the link; the {linked} is left as it is."
    patch = ", ".join(f"{_lit(k)} = {_lit(v)}" for k, v in rule.patch_items)
    return f"Deleting a {deleted} keeps the linked {linked} and sets {patch} on it."


def _rules(flow: Flow) -> list[str]:
    sf, pms = f"Salesforce {flow.sf_object}", f"Custompms {flow.pms_label}"
    items = [
        f"A new {sf} creates a {pms}." if flow.create_in_pms else f"A new {sf} creates nothing.",
        f"A new {pms} creates a {sf}."
        if flow.create_in_sf
        else f"A new {pms} creates nothing in Salesforce.",
    ]
    marks = " and ".join(f"{_lit(path)} = {_lit(v)}" for path, v in flow.constants.items())
    if marks and flow.pms_default:
        items.append(
            f"{pms}s with {marks} belong to this flow, and so does every other {pms} that no "
            "other flow claims."
        )
    elif marks:
        items.append(f"Only {pms}s with {marks} belong to this flow.")
    items.append(_delete_sentence(flow.delete_policy.sf_deleted, sf, pms))
    items.append(_delete_sentence(flow.delete_policy.pms_deleted, pms, sf))
    items += _scope_sentences(flow, sf, pms)
    if flow.match:
        names = ", ".join(f"{_lit(part.sf_field)} / {_lit(part.pms_field)}" for part in flow.match)
        items.append(
            f"At onboarding, records that already exist on both sides are paired by {names}, "
            "compared ignoring case, punctuation and repeated spaces "
            "(``Acme, Inc.`` pairs with ``ACME Inc``)."
        )
    else:
        items.append(
            "At onboarding, records are not paired by their values; an unlinked "
            "record is created on the other side as above."
        )
    items += list(flow.notes)
    return [
        ".. rubric:: Creating, deleting and pairing records",
        "",
        *(f"- {i}" for i in items),
        "",
    ]


def _scope_sentences(flow: Flow, sf: str, pms: str) -> list[str]:
    scope = flow.scope
    items = []
    if scope.sf_condition:
        items.append(
            f"Only {sf}s matching the SOQL condition {_lit(scope.sf_condition)} take part."
        )
    if scope.pms_filter:
        items.append(f"Only {pms}s whose {scope.describe_pms()} take part.")
    if scope.limits_salesforce or scope.limits_custompms:
        items.append(
            "A linked record that leaves this scope stays linked and in sync."
            if scope.when_leaving == "keep"
            else "A linked record that leaves this scope is unlinked; both records stay as "
            "they are."
        )
    return items


def render_dataflow_rst(flows: Iterable[Flow], source: str = "config/mapping.yaml") -> str:
    """The whole document as reStructuredText, ending with one newline."""
    flows = list(flows)
    labels = {flow.name: flow.pms_label for flow in flows}
    lines = [*_heading(TITLE, "=", overline=True), INTRODUCTION.format(source=source), ""]
    for flow in flows:
        sf, pms = f"Salesforce {flow.sf_object}", f"Custompms {flow.pms_label}"
        lines += _heading(flow.title, "=")
        lines += [
            f"Every {sf} will be synchronized with a {pms}.",
            f"Once a link between a {sf} and a {pms} is established, it will keep in sync "
            "between the two systems, regardless of where it is edited.",
            "",
        ]
        lines += _table(flow, labels) + _one_way(flow, labels) + _value_maps(flow) + _rules(flow)
    return "\n".join(lines).rstrip("\n") + "\n"
