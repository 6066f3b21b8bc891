"""Salesforce upserts (a Custompms record's new twin) by the external-id field
`Custompms_Id__c`, so a redelivered op finds the record it made.

- sObject Collections upsert, 200 records a call, one call per sObject and round (the n-th
  upsert of one external id in a batch goes in the n-th round: Collections refuses a value
  twice in one call).
- With `match`, an unlinked record with the same normalised values (picked by
  `streams.mapping.matching`) is adopted first (its external id set) instead of creating
  another; only those (Customer flows, rare) cost their own calls.
- A deleted twin is never re-created: an upsert by external id does not see records in the
  recycle bin, so a replayed or late create would make a second twin of a record a person
  deleted. One `queryAll` per batch and sObject finds the external ids whose only twins are
  deleted (`IsDeleted = true`); those ops are not applied and report `gone` (TargetGone:
  no dead letter), and the engine detaches the Custompms record.
- A live twin is never overwritten by an upsert: the same `queryAll` finds external ids that
  already have a live twin. Such an upsert is a replay of the create (the engine decided it
  again after a restart, or the sink's answer was lost), and a person may have edited the
  twin since; upserting would put the older values back (docs/faults.md Found 19). It is
  reported done (`ok`, not created, nothing written) with the twin's id; the engine learns
  the twin's values from its Salesforce changes before it writes to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.errors import SalesforceApiError
from connectors.salesforce.formats import soql_quote
from connectors.salesforce.types import UpsertResult
from connectors.sinks.model import Applied
from connectors.sinks.salesforce_outcomes import applied, guarded, isolated, refused
from foundation.errors import RetriableError, TargetGone
from streams.core.model import EXTERNAL_ID_FIELD
from streams.mapping.matching import CandidateIndex, adopt, wanted_key

Ops = Sequence[Mapping[str, Any]]


async def upserts(client: SalesforceClient, ops: Ops, indexes: Sequence[int]) -> dict[int, Applied]:
    """The outcomes of the upsert ops at `indexes` of `ops`."""
    results: dict[int, Applied] = {}
    by_sobject: dict[str, list[int]] = {}
    for index in indexes:
        by_sobject.setdefault(str(ops[index]["entity"]), []).append(index)
    for group in by_sobject.values():
        results.update(await guarded(ops, group, _sobject_upserts(client, ops, group)))
    return results


async def _sobject_upserts(
    client: SalesforceClient, ops: Ops, indexes: Sequence[int]
) -> dict[int, Applied]:
    results = await _existing_twins(client, ops, indexes)
    rounds: list[dict[str, dict[str, int]]] = []  # ext field -> ext value -> index
    for index in indexes:
        op = ops[index]
        if index in results:
            continue
        if op.get("match"):
            results.update(await guarded(ops, [index], _matched_upsert(client, ops, index)))
            continue
        value = str(op["external_id"]).casefold()
        for round_ in rounds:
            if value not in round_.setdefault(ext_field(op), {}):
                round_[ext_field(op)][value] = index
                break
        else:
            rounds.append({ext_field(op): {value: index}})
    for round_ in rounds:
        for field, by_value in round_.items():
            results.update(await _collection_upsert(client, ops, field, list(by_value.values())))
    return results


async def _existing_twins(
    client: SalesforceClient, ops: Ops, indexes: Sequence[int]
) -> dict[int, Applied]:
    """Upserts (of one sObject) whose external id already has a twin: a live one is left
    as it is (done, nothing written); one only in the recycle bin is `gone`.

    One `queryAll` (`query` for an sObject that cannot be deleted) per external-id field
    and ~8,000 characters of values."""
    sobject = str(ops[indexes[0]]["entity"])
    deletable = "IsDeleted" in await client.field_types(sobject)
    wanted: dict[str, dict[str, list[int]]] = {}
    for index in indexes:
        by_value = wanted.setdefault(ext_field(ops[index]), {})
        by_value.setdefault(str(ops[index]["external_id"]).casefold(), []).append(index)
    found: dict[int, Applied] = {}
    for field, by_value in wanted.items():
        for chunk in _soql_chunks(list(by_value)):
            quoted = ", ".join(soql_quote(v) for v in chunk)
            columns = f"Id, {field}, IsDeleted" if deletable else f"Id, {field}"
            # Object and field names come from the mapping tables; values are quoted.
            soql = f"SELECT {columns} FROM {sobject} WHERE {field} IN ({quoted})"  # noqa: S608
            deleted: dict[str, str] = {}
            live: dict[str, str] = {}
            records = client.query_all(soql) if deletable else client.query(soql)
            async for record in records:
                value = str(record.get(field) or "").casefold()
                if record.get("IsDeleted"):
                    deleted.setdefault(value, str(record["Id"]))
                else:
                    live.setdefault(value, str(record["Id"]))
            for value, record_id in live.items():
                for index in by_value.get(value, []):
                    found[index] = Applied(ops[index], ok=True, target_id=record_id, written={})
            for value, record_id in deleted.items():
                if value not in live:
                    for index in by_value.get(value, []):
                        found[index] = _twin_deleted(ops[index], record_id)
    return found


async def _collection_upsert(
    client: SalesforceClient, ops: Ops, field: str, indexes: Sequence[int]
) -> dict[int, Applied]:
    sobject = str(ops[indexes[0]]["entity"])
    records = [{**ops[i]["fields"], field: str(ops[i]["external_id"])} for i in indexes]

    async def call(chunk: Sequence[dict[str, Any]]) -> list[UpsertResult]:
        return await client.collections_upsert(sobject, field, chunk)

    outcomes = await isolated(call, records)
    results: dict[int, Applied] = {}
    for index, outcome in zip(indexes, outcomes, strict=True):
        if not isinstance(outcome, UpsertResult):
            results[index] = refused(ops[index], outcome, None)
        elif outcome.success and outcome.id:
            written = dict(ops[index]["fields"])
            results[index] = Applied(
                ops[index], ok=True, target_id=outcome.id, created=outcome.created, written=written
            )
        else:
            # No record id (there is none): the result goes to the op's link key.
            results[index] = applied(ops[index], outcome, None)
    return results


async def _matched_upsert(client: SalesforceClient, ops: Ops, index: int) -> dict[int, Applied]:
    op = ops[index]
    sobject = str(op["entity"])
    field, value = ext_field(op), str(op["external_id"])
    fields = dict(op["fields"])
    try:
        adopted = await _match(client, sobject, field, op.get("match") or {})
        if adopted is not None:
            await client.update(sobject, adopted, {**fields, field: value})
            return {index: Applied(op, ok=True, target_id=adopted, matched=True, written=fields)}
        target_id, created = await client.upsert(sobject, field, value, fields)
    except (SalesforceApiError, RetriableError) as exc:
        exc.flow = op.get("flow")
        return {index: Applied(op, ok=False, error=exc)}
    return {index: Applied(op, ok=True, target_id=target_id, created=created, written=fields)}


async def _match(
    client: SalesforceClient, sobject: str, field: str, match: Mapping[str, str]
) -> str | None:
    """An unlinked record whose match fields equal the op's, normalised (the sink fetches
    the candidates; `streams.mapping.matching.adopt` picks). Only ops whose external id has
    no twin get here: `_existing_twins` answered the others."""
    fields = ", ".join(sorted({"Id", *match}))
    unlinked = f"SELECT {fields} FROM {sobject} WHERE {field} = null ORDER BY Id"  # noqa: S608
    candidates = [record async for record in client.query(unlinked)]
    names, _key = wanted_key(match)
    index = CandidateIndex(candidates, names, value_of=_field)
    chosen = adopt(index, match, {}, id_field="Id", value_of=_field)
    return str(chosen["Id"]) if chosen is not None else None


def _field(record: Mapping[str, Any], name: str) -> Any:
    return record.get(name)


def ext_field(op: Mapping[str, Any]) -> str:
    """The op's external-id field (Custompms_Id__c unless the mapping names another)."""
    return str(op.get("external_id_field") or EXTERNAL_ID_FIELD)


def _soql_chunks(values: Sequence[str], budget: int = 8_000) -> list[Sequence[str]]:
    """Values in groups whose quoted list stays within `budget` characters (the query goes
    in the URL)."""
    chunks: list[Sequence[str]] = []
    start, size = 0, 0
    for n, value in enumerate(values):
        size += len(value) + 4
        if size > budget and n > start:
            chunks.append(values[start:n])
            start, size = n, len(value) + 4
    if start < len(values):
        chunks.append(values[start:])
    return chunks


def _twin_deleted(op: Mapping[str, Any], record_id: str) -> Applied:
    error = TargetGone(
        f"the Salesforce {op['entity']} {record_id} with {ext_field(op)}={op['external_id']} "
        "was deleted; the sync never re-creates a twin someone deleted, so this upsert was "
        "not applied and the Custompms record is detached (undelete the Salesforce record "
        "if the two should stay in sync)",
        flow=op.get("flow"),
        record=f"{op['entity']}/{record_id}",
    )
    return Applied(op, ok=False, error=error)
