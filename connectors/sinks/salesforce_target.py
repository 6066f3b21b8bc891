"""Apply write commands to Salesforce with sObject Collections (200 records a call).

- update: one Collections PATCH per 200 records; several updates of one record in a batch
  go in successive calls, in order (Collections refuses a record twice in one call).
  Updates carrying `if_match` (the SystemModstamp the engine decided on) are checked first
  with one Collections retrieve per 200 records: a record someone other than the sync
  changed since is not overwritten (WriteConflict; the engine decides again when that
  change arrives), so a person's edit made while a sync write was on its way is kept.
- delete: one Collections DELETE per 200 ids; a record already gone counts as deleted.
- upsert (a Custompms record's new twin): by the external-id field `Custompms_Id__c`, so a
  redelivered command finds the record it made: sObject Collections upsert, 200 records a
  call (the n-th upsert of one external id in a batch goes in the n-th round, as
  Collections refuses a value twice in one call). With `match`, an unlinked record with
  the same normalised name is adopted first (its external id set) instead of creating
  another; only those (Customer flows, rare) cost their own calls. An upsert whose external
  id belongs to a deleted record (in the recycle bin) is refused, never applied: the sync
  does not re-create a twin someone deleted (one `queryAll` per batch and sObject).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.errors import SalesforceApiError
from connectors.salesforce.formats import parse_datetime, soql_quote
from connectors.salesforce.types import RecordResult, UpsertResult
from connectors.sinks.model import Applied
from foundation.errors import FatalError, SyncError, WriteConflict
from streams.core.model import EXTERNAL_ID_FIELD
from streams.mapping.matching import normalise_name

_GONE = frozenset({"ENTITY_IS_DELETED", "NOT_FOUND", "INVALID_CROSS_REFERENCE_KEY"})


class SalesforceTarget:
    """Applies a batch of commands for Salesforce sObjects."""

    system = "salesforce"

    def __init__(self, client: SalesforceClient, *, conditional: bool = True) -> None:
        self.client = client
        self.conditional = conditional
        self._sync_user_id: str | None = None

    async def apply(self, commands: Sequence[Mapping[str, Any]]) -> list[Applied]:
        """One `Applied` per command, in order. Raises RetriableError if the API is down."""
        results: dict[int, Applied] = {}
        updates: dict[str, list[int]] = {}
        deletes: list[int] = []
        upserts: list[int] = []
        for index, command in enumerate(commands):
            action = command["action"]
            if action == "update":
                updates.setdefault(str(command["target_id"]), []).append(index)
            elif action == "delete":
                deletes.append(index)
            elif action == "upsert":
                upserts.append(index)
            else:
                error = FatalError(
                    f"Salesforce sink cannot {action}; creates are upserts by {EXTERNAL_ID_FIELD}",
                    flow=command.get("flow"),
                )
                results[index] = Applied(command, ok=False, error=error)
        if updates:
            results.update(await self._updates(commands, updates))
        if deletes:
            results.update(await self._deletes(commands, deletes))
        if upserts:
            results.update(await self._upserts(commands, upserts))
        return [results[i] for i in range(len(commands))]

    async def _upserts(
        self, commands: Sequence[Mapping[str, Any]], upserts: Sequence[int]
    ) -> dict[int, Applied]:
        """Upserts by external id through sObject Collections, 200 a call; those with a
        `match` go one by one (they may adopt an existing record instead)."""
        results = await self._deleted_twins(commands, upserts)
        rounds: list[dict[tuple[str, str], dict[str, int]]] = []
        for index in upserts:
            command = commands[index]
            if index in results:
                continue
            if command.get("match"):
                results[index] = await self._upsert(command)
                continue
            group = (str(command["entity"]), _ext_field(command))
            value = str(command["external_id"])
            for round_ in rounds:
                if value not in round_.setdefault(group, {}):
                    round_[group][value] = index
                    break
            else:
                rounds.append({group: {value: index}})
        for round_ in rounds:
            for (sobject, ext_field), by_value in round_.items():
                if by_value:
                    results.update(
                        await self._collection_upsert(commands, sobject, ext_field, by_value)
                    )
        return results

    async def _deleted_twins(
        self, commands: Sequence[Mapping[str, Any]], upserts: Sequence[int]
    ) -> dict[int, Applied]:
        """Upserts whose external id belongs to a record someone deleted: refused, never
        applied. An upsert by external id does not see deleted records, so a replayed or
        late create would re-create a twin a person deleted; one `queryAll` per batch and
        sObject (in the recycle bin: `IsDeleted = true`) finds them first."""
        wanted: dict[tuple[str, str], dict[str, list[int]]] = {}
        for index in upserts:
            command = commands[index]
            key = (str(command["entity"]), _ext_field(command))
            by_value = wanted.setdefault(key, {})
            by_value.setdefault(str(command["external_id"]).casefold(), []).append(index)
        refused: dict[int, Applied] = {}
        for (sobject, ext_field), by_value in wanted.items():
            if "IsDeleted" not in await self.client.field_types(sobject):
                continue  # cannot be deleted (Division)
            for chunk in _soql_chunks(list(by_value)):
                quoted = ", ".join(soql_quote(v) for v in chunk)
                # Object and field names come from the mapping tables; values are quoted.
                soql = (
                    f"SELECT Id, {ext_field} FROM {sobject} "  # noqa: S608
                    f"WHERE {ext_field} IN ({quoted}) AND IsDeleted = true"
                )
                async for record in self.client.query_all(soql):
                    for index in by_value.get(str(record.get(ext_field) or "").casefold(), []):
                        refused[index] = _twin_deleted(commands[index], str(record["Id"]))
        return refused

    async def _collection_upsert(
        self,
        commands: Sequence[Mapping[str, Any]],
        sobject: str,
        ext_field: str,
        by_value: Mapping[str, int],
    ) -> dict[int, Applied]:
        indexes = list(by_value.values())
        records = [
            {**commands[i]["fields"], ext_field: str(commands[i]["external_id"])} for i in indexes
        ]
        try:
            outcomes = await self.client.collections_upsert(sobject, ext_field, records)
        except SalesforceApiError as exc:  # the request as a whole was refused
            exc.flow = commands[indexes[0]].get("flow")
            return {i: Applied(commands[i], ok=False, error=exc) for i in indexes}
        results: dict[int, Applied] = {}
        for index, outcome in zip(indexes, outcomes, strict=True):
            command = commands[index]
            if outcome.success and outcome.id:
                results[index] = Applied(
                    command,
                    ok=True,
                    target_id=outcome.id,
                    created=outcome.created,
                    written=dict(command["fields"]),
                )
            else:
                # Named by its external id in the error; no record id (there is none), so
                # its result goes to the command's link key.
                refused = _applied(command, outcome, f"{ext_field}={command['external_id']}")
                results[index] = replace(refused, target_id=None)
        return results

    async def _updates(
        self, commands: Sequence[Mapping[str, Any]], updates: Mapping[str, list[int]]
    ) -> dict[int, Applied]:
        """Collections refuse a record twice in one call, so the n-th update of a record goes
        in the n-th round: usually one call per 200 records, and each command keeps its own
        outcome (a refused update never takes a good one down with it)."""
        results = await self._conflicts(commands, updates)
        updates = {
            target_id: [i for i in indexes if i not in results]
            for target_id, indexes in updates.items()
        }
        updates = {target_id: indexes for target_id, indexes in updates.items() if indexes}
        if not updates:
            return results
        rounds = max(len(indexes) for indexes in updates.values())
        for round_ in range(rounds):
            batch = [
                (target_id, indexes[round_])
                for target_id, indexes in updates.items()
                if len(indexes) > round_
            ]
            records = [
                {
                    "attributes": {"type": commands[index]["entity"]},
                    "Id": target_id,
                    **commands[index]["fields"],
                }
                for target_id, index in batch
            ]
            outcomes = await self.client.collections_update(records)
            for (target_id, index), outcome in zip(batch, outcomes, strict=True):
                results[index] = _applied(commands[index], outcome, target_id)
        return results

    async def _conflicts(
        self, commands: Sequence[Mapping[str, Any]], updates: Mapping[str, list[int]]
    ) -> dict[int, Applied]:
        """Updates whose record someone other than the sync changed after the decision
        (SystemModstamp newer than `if_match`): skipped as WriteConflicts. One Collections
        retrieve per sObject type and 200 records; the window left is that call's."""
        if not self.conditional:
            return {}
        checked: dict[str, dict[str, list[int]]] = {}
        for target_id, indexes in updates.items():
            conditional = [i for i in indexes if commands[i].get("if_match") is not None]
            if conditional:
                sobject = str(commands[conditional[0]]["entity"])
                checked.setdefault(sobject, {})[target_id] = conditional
        if not checked:
            return {}
        sync_user = await self._sync_user()
        results: dict[int, Applied] = {}
        for sobject, by_id in checked.items():
            ids = list(by_id)
            current = await self.client.collections_retrieve(
                sobject, ids, ["Id", "SystemModstamp", "LastModifiedById"]
            )
            for target_id, record in zip(ids, current, strict=True):
                if record is None or record.get("LastModifiedById") == sync_user:
                    continue  # gone (the update reports it) or last changed by the sync
                stamp = parse_datetime(str(record["SystemModstamp"]))
                changed_ms = int(stamp.timestamp() * 1000)
                for index in by_id[target_id]:
                    if changed_ms > int(commands[index]["if_match"]):
                        results[index] = _conflict(commands[index], target_id, stamp)
        return results

    async def _sync_user(self) -> str:
        if self._sync_user_id is None:
            self._sync_user_id = (await self.client.identity()).user_id
        return self._sync_user_id

    async def _deletes(
        self, commands: Sequence[Mapping[str, Any]], deletes: Sequence[int]
    ) -> dict[int, Applied]:
        ids = [str(commands[i]["target_id"]) for i in deletes]
        outcomes = await self.client.collections_delete(ids)
        results: dict[int, Applied] = {}
        for index, target_id, outcome in zip(deletes, ids, outcomes, strict=True):
            gone = not outcome.success and any(e.code in _GONE for e in outcome.errors)
            results[index] = (
                Applied(commands[index], ok=True, target_id=target_id)
                if gone
                else _applied(commands[index], outcome, target_id)
            )
        return results

    async def _upsert(self, command: Mapping[str, Any]) -> Applied:
        sobject = str(command["entity"])
        ext_field = str(command.get("external_id_field") or EXTERNAL_ID_FIELD)
        ext_value = str(command["external_id"])
        fields = dict(command["fields"])
        try:
            adopted = await self._match(sobject, ext_field, ext_value, command.get("match") or {})
            if adopted is not None:
                await self.client.update(sobject, adopted, {**fields, ext_field: ext_value})
                return Applied(command, ok=True, target_id=adopted, matched=True, written=fields)
            target_id, created = await self.client.upsert(sobject, ext_field, ext_value, fields)
        except SalesforceApiError as exc:
            exc.flow = command.get("flow")
            return Applied(command, ok=False, error=exc)
        return Applied(command, ok=True, target_id=target_id, created=created, written=fields)

    async def _match(
        self, sobject: str, ext_field: str, ext_value: str, match: Mapping[str, str]
    ) -> str | None:
        """An unlinked record whose match fields equal the command's, normalised."""
        if not match:
            return None
        # Object and field names come from the mapping tables; the value is quoted.
        lookup = f"SELECT Id FROM {sobject} WHERE {ext_field} = {soql_quote(ext_value)} LIMIT 1"  # noqa: S608
        existing = [r async for r in self.client.query(lookup)]
        if existing:
            return None  # already has its twin: the upsert updates it
        fields = ", ".join(sorted({"Id", *match}))
        wanted = {name: normalise_name(value) for name, value in match.items()}
        candidates = []
        unlinked = f"SELECT {fields} FROM {sobject} WHERE {ext_field} = null ORDER BY Id"  # noqa: S608
        async for record in self.client.query(unlinked):
            if all(normalise_name(str(record.get(k) or "")) == v for k, v in wanted.items()):
                candidates.append(str(record["Id"]))
        return candidates[0] if candidates else None


def _ext_field(command: Mapping[str, Any]) -> str:
    return str(command.get("external_id_field") or EXTERNAL_ID_FIELD)


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


def _twin_deleted(command: Mapping[str, Any], record_id: str) -> Applied:
    error = FatalError(
        f"the Salesforce {command['entity']} {record_id} with {_ext_field(command)}="
        f"{command['external_id']} was deleted; the sync never re-creates a twin someone "
        "deleted, so this upsert was not applied (undelete the record in Salesforce if it "
        "should stay)",
        flow=command.get("flow"),
        record=f"{command['entity']}/{record_id}",
    )
    return Applied(command, ok=False, error=error)


def _conflict(command: Mapping[str, Any], target_id: str, changed: datetime) -> Applied:
    error = WriteConflict(
        f"{command['entity']} {target_id} was changed in Salesforce at {changed.isoformat()}, "
        "after this write was decided; skipped, the engine decides again with that change",
        flow=command.get("flow"),
        record=f"{command['entity']}/{target_id}",
    )
    return Applied(command, ok=False, target_id=target_id, error=error, modstamp=changed)


def _applied(
    command: Mapping[str, Any], outcome: RecordResult | UpsertResult, target_id: str
) -> Applied:
    if outcome.success:
        return Applied(
            command, ok=True, target_id=target_id, written=dict(command.get("fields") or {})
        )
    first = outcome.errors[0] if outcome.errors else None
    message = "; ".join(f"{e.code}: {e.message}" for e in outcome.errors) or "unknown error"
    error: SyncError = SalesforceApiError(
        f"Salesforce refused {command['action']} of {command['entity']} {target_id}: {message}",
        status=400,
        error_code=first.code if first else "UNKNOWN",
        fields=first.fields if first else (),
        record=f"{command['entity']}/{target_id}",
    )
    error.flow = command.get("flow")
    return Applied(command, ok=False, target_id=target_id, error=error)
