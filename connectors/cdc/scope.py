"""Scope tags for captured Salesforce records: does each record match its flows' conditions?

A flow's Salesforce scope is a SOQL condition from the mapping file (`scope.salesforce`).
Salesforce itself evaluates it: for a page of captured records, one query per distinct
condition,

    SELECT Id FROM Task WHERE Id IN ('00T...', ...) AND (<condition>)

returns the ids in scope, and every change envelope is tagged `source.scope = {flow: true
or false}`. Why here and not as a filter on the capture query:
- the condition keeps Salesforce's own semantics (relationships, date literals, record
  types), whatever the engine could reimplement;
- a record that leaves the scope is still captured, tagged false, so the engine can apply
  the flow's leave-scope policy (keep or unlink);
- Change Data Capture over Pub/Sub cannot filter at all; that capture calls `tag` with the
  ids of each event batch the same way.

`queryAll` is used so a deleted record's tags are computed too (its delete still matters).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.errors import SalesforceApiError
from connectors.salesforce.formats import soql_quote
from streams.mapping.table import Flow

#: Salesforce refuses SOQL longer than 100,000 characters; stay well under it.
MAX_SOQL_CHARS = 90_000
#: At most this many ids per query (one response page of `SELECT Id` holds 2,000 rows).
MAX_IDS = 2_000
_PER_ID = 21  # an 18-character id, its quotes and ", "

#: record id -> {flow name: in scope}
Tags = dict[str, dict[str, bool]]


@dataclass(frozen=True, slots=True)
class Condition:
    """One flow's Salesforce scope: a SOQL condition on its sObject."""

    flow: str
    sobject: str
    soql: str
    where: str = ""


def conditions_of(flows: Iterable[Flow]) -> dict[str, tuple[Condition, ...]]:
    """sObject -> the scope conditions of the flows reading it (flows without one omitted)."""
    found: dict[str, list[Condition]] = {}
    for flow in flows:
        condition = flow.scope.sf_condition
        if condition:
            found.setdefault(flow.sf_object, []).append(
                Condition(flow.name, flow.sf_object, condition, flow.scope.where)
            )
    return {sobject: tuple(items) for sobject, items in found.items()}


def _chunks(ids: Sequence[str], condition: str) -> Iterable[Sequence[str]]:
    room = max((MAX_SOQL_CHARS - len(condition) - 200) // _PER_ID, 1)
    size = min(room, MAX_IDS)
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def in_scope_soql(sobject: str, ids: Sequence[str], condition: str) -> str:
    """The query asking which of `ids` match `condition`."""
    quoted = ", ".join(soql_quote(record_id) for record_id in ids)
    # sObject and condition come from the validated mapping file; ids are quoted
    return f"SELECT Id FROM {sobject} WHERE Id IN ({quoted}) AND ({condition})"  # noqa: S608


class ScopeTagger:
    """Asks Salesforce which captured records are in their flows' scopes."""

    def __init__(
        self, client: SalesforceClient, conditions: Mapping[str, Sequence[Condition]]
    ) -> None:
        self.client = client
        self.conditions = conditions
        self.queries = 0

    def limits(self, sobject: str) -> bool:
        """Whether any flow of `sobject` has a Salesforce scope (tagging costs calls)."""
        return bool(self.conditions.get(sobject))

    async def tag(self, sobject: str, ids: Sequence[str]) -> Tags:
        """{id: {flow: in scope}} for `ids`; {} per id when no flow of `sobject` is scoped.

        Flows sharing a condition share its queries.
        """
        tags: Tags = {record_id: {} for record_id in ids}
        conditions = self.conditions.get(sobject, ())
        if not ids or not conditions:
            return tags
        unique = list(dict.fromkeys(ids))
        matched_by_condition: dict[str, set[str]] = {}
        for condition in conditions:
            matched = matched_by_condition.get(condition.soql)
            if matched is None:
                matched = matched_by_condition[condition.soql] = await self._matching(
                    sobject, unique, condition.soql
                )
            for record_id in unique:
                tags[record_id][condition.flow] = _short(record_id) in matched
        return tags

    async def _matching(self, sobject: str, ids: Sequence[str], condition: str) -> set[str]:
        matched: set[str] = set()
        for chunk in _chunks(ids, condition):
            self.queries += 1
            async for record in self.client.query_all(in_scope_soql(sobject, chunk, condition)):
                matched.add(_short(str(record["Id"])))
        return matched


def _short(record_id: str) -> str:
    """Salesforce ids compare on their case-sensitive 15-character form."""
    return record_id[:15]


async def check_condition(client: SalesforceClient, condition: Condition) -> str | None:
    """None if Salesforce accepts the condition, else its error (for `mapping validate`)."""
    soql = f"SELECT Id FROM {condition.sobject} WHERE ({condition.soql}) LIMIT 1"  # noqa: S608
    try:
        async for _record in client.query(soql):
            break
    except SalesforceApiError as exc:
        return (
            f"Salesforce refuses the scope condition of flow {condition.flow} "
            f"({exc.error_code}: {exc.message}); write it as the WHERE clause of a SOQL "
            f"query on {condition.sobject}"
        )
    return None
