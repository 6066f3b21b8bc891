"""Apply write commands to Salesforce with sObject Collections (200 records a call).

- update: one Collections PATCH per 200 records; several updates of one record in a batch
  go in successive calls, in order (Collections refuses a record twice in one call).
  Updates carrying `if_match` (the SystemModstamp the engine decided on) are checked first
  with one Collections retrieve per 200 records: a record someone other than the sync
  changed since is not overwritten (WriteConflict; the engine decides again when that
  change arrives), so a person's edit made while a sync write was on its way is kept.
- delete: one Collections DELETE per 200 ids; a record already gone counts as deleted.
- upsert (a Custompms record's new twin): by the external-id field `Custompms_Id__c`, so a
  redelivered command finds the record it made. With `match`, an unlinked record with the
  same normalised values (picked by `streams.mapping.matching`) is adopted first (its
  external id set) instead of creating another.

Failures stay with the commands they belong to: each sObject gets its own calls (a failing
sObject does not fail the others), a call that fails for a transient reason makes its
commands retriable, a call Salesforce refuses as a whole (a FatalError, e.g. a body it
cannot parse) is split until the refused records are alone, and per-record errors that are
transient (UNABLE_TO_LOCK_ROW) are retriable rather than dead letters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.errors import SalesforceApiError, SalesforceRetriableError
from connectors.salesforce.formats import parse_datetime, soql_quote
from connectors.salesforce.types import RecordResult
from connectors.sinks.model import Applied
from foundation.errors import FatalError, RetriableError, SyncError, TargetGone, WriteConflict
from streams.core.model import EXTERNAL_ID_FIELD
from streams.mapping.matching import CandidateIndex, adopt, wanted_key

_GONE = frozenset({"ENTITY_IS_DELETED", "NOT_FOUND", "INVALID_CROSS_REFERENCE_KEY"})
#: Per-record errors that go away by themselves: the record is tried again, not refused.
_TRANSIENT = frozenset({"UNABLE_TO_LOCK_ROW"})


class SalesforceTarget:
    """Applies a batch of commands for Salesforce sObjects."""

    system = "salesforce"

    def __init__(self, client: SalesforceClient, *, conditional: bool = True) -> None:
        self.client = client
        self.conditional = conditional
        self._sync_user_id: str | None = None

    async def apply(self, commands: Sequence[Mapping[str, Any]]) -> list[Applied]:
        """One `Applied` per command, in order; failures are reported per command."""
        results: dict[int, Applied] = {}
        updates: dict[str, dict[str, list[int]]] = {}
        deletes: dict[str, list[int]] = {}
        upserts: list[int] = []
        for index, command in enumerate(commands):
            action = command["action"]
            sobject = str(command["entity"])
            if action == "update":
                by_id = updates.setdefault(sobject, {})
                by_id.setdefault(str(command["target_id"]), []).append(index)
            elif action == "delete":
                deletes.setdefault(sobject, []).append(index)
            elif action == "upsert":
                upserts.append(index)
            else:
                error = FatalError(
                    f"Salesforce sink cannot {action}; creates are upserts by {EXTERNAL_ID_FIELD}",
                    flow=command.get("flow"),
                )
                results[index] = Applied(command, ok=False, error=error)
        for by_id in updates.values():
            indexes = [i for group in by_id.values() for i in group]
            results.update(await _guarded(commands, indexes, self._updates(commands, by_id)))
        for indexes in deletes.values():
            results.update(await _guarded(commands, indexes, self._deletes(commands, indexes)))
        for index in upserts:
            found = await _guarded(commands, [index], self._one_upsert(commands, index))
            results.update(found)
        return [results[i] for i in range(len(commands))]

    async def _one_upsert(
        self, commands: Sequence[Mapping[str, Any]], index: int
    ) -> dict[int, Applied]:
        return {index: await self._upsert(commands[index])}

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
            outcomes = await _isolated(self.client.collections_update, records)
            for (target_id, index), outcome in zip(batch, outcomes, strict=True):
                results[index] = (
                    _applied(commands[index], outcome, target_id)
                    if isinstance(outcome, RecordResult)
                    else _refused(commands[index], outcome, target_id)
                )
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
        outcomes = await _isolated(self.client.collections_delete, ids)
        results: dict[int, Applied] = {}
        for index, target_id, outcome in zip(deletes, ids, outcomes, strict=True):
            if not isinstance(outcome, RecordResult):
                results[index] = _refused(commands[index], outcome, target_id)
                continue
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
        except (SalesforceApiError, RetriableError) as exc:
            exc.flow = command.get("flow")
            return Applied(command, ok=False, error=exc)
        return Applied(command, ok=True, target_id=target_id, created=created, written=fields)

    async def _match(
        self, sobject: str, ext_field: str, ext_value: str, match: Mapping[str, str]
    ) -> str | None:
        """An unlinked record whose match fields equal the command's, normalised (the sink
        fetches the candidates; `streams.mapping.matching.adopt` picks)."""
        if not match:
            return None
        # Object and field names come from the mapping tables; the value is quoted.
        lookup = f"SELECT Id FROM {sobject} WHERE {ext_field} = {soql_quote(ext_value)} LIMIT 1"  # noqa: S608
        existing = [r async for r in self.client.query(lookup)]
        if existing:
            return None  # already has its twin: the upsert updates it
        fields = ", ".join(sorted({"Id", *match}))
        unlinked = f"SELECT {fields} FROM {sobject} WHERE {ext_field} = null ORDER BY Id"  # noqa: S608
        candidates = [record async for record in self.client.query(unlinked)]
        names, _key = wanted_key(match)
        index = CandidateIndex(candidates, names, value_of=_field)
        chosen = adopt(index, match, {}, id_field="Id", value_of=_field)
        return str(chosen["Id"]) if chosen is not None else None


def _field(record: Mapping[str, Any], name: str) -> Any:
    return record.get(name)


def _conflict(command: Mapping[str, Any], target_id: str, changed: datetime) -> Applied:
    error = WriteConflict(
        f"{command['entity']} {target_id} was changed in Salesforce at {changed.isoformat()}, "
        "after this write was decided; skipped, the engine decides again with that change",
        flow=command.get("flow"),
        record=f"{command['entity']}/{target_id}",
    )
    return Applied(command, ok=False, target_id=target_id, error=error, modstamp=changed)


def _applied(command: Mapping[str, Any], outcome: RecordResult, target_id: str) -> Applied:
    if outcome.success:
        return Applied(
            command, ok=True, target_id=target_id, written=dict(command.get("fields") or {})
        )
    first = outcome.errors[0] if outcome.errors else None
    message = "; ".join(f"{e.code}: {e.message}" for e in outcome.errors) or "unknown error"
    error: SyncError
    if first is not None and first.code in _GONE and command["action"] == "update":
        error = TargetGone(
            f"{command['entity']} {target_id} is gone from Salesforce ({message}); this "
            "update was decided before the delete and is skipped: the flow's delete rule "
            "applies when capture delivers the delete",
            record=f"{command['entity']}/{target_id}",
        )
        error.flow = command.get("flow")
        return Applied(command, ok=False, target_id=target_id, error=error)
    if first is not None and first.code in _TRANSIENT:
        error = SalesforceRetriableError(
            f"Salesforce could not {command['action']} {command['entity']} {target_id} now: "
            f"{message}; tried again later",
            error_code=first.code,
            record=f"{command['entity']}/{target_id}",
        )
        error.flow = command.get("flow")
        return Applied(command, ok=False, target_id=target_id, error=error)
    error = SalesforceApiError(
        f"Salesforce refused {command['action']} of {command['entity']} {target_id}: {message}",
        status=400,
        error_code=first.code if first else "UNKNOWN",
        fields=first.fields if first else (),
        record=f"{command['entity']}/{target_id}",
    )
    error.flow = command.get("flow")
    return Applied(command, ok=False, target_id=target_id, error=error)


def _refused(command: Mapping[str, Any], error: SyncError, target_id: str) -> Applied:
    """A command whose call failed as a whole (or was refused alone, after splitting)."""
    error.flow = error.flow or command.get("flow")
    return Applied(command, ok=False, target_id=target_id, error=error)


async def _guarded(
    commands: Sequence[Mapping[str, Any]],
    indexes: Sequence[int],
    work: Awaitable[dict[int, Applied]],
) -> dict[int, Applied]:
    """Run one group's calls; a failure of the group is each of its commands' outcome."""
    try:
        return await work
    except SyncError as exc:
        return {
            i: Applied(commands[i], ok=False, target_id=commands[i].get("target_id"), error=exc)
            for i in indexes
        }


async def _isolated(
    call: Callable[[Sequence[Any]], Awaitable[list[RecordResult]]], items: Sequence[Any]
) -> list[RecordResult | SyncError]:
    """Call a Collections endpoint; when Salesforce refuses the whole request (FatalError),
    split it until each refused item is alone, so its error stays with its record and the
    others are written. A transient failure is every item's outcome (tried again later)."""
    try:
        return list(await call(items))
    except RetriableError as exc:
        return [exc] * len(items)
    except FatalError as exc:
        if len(items) == 1:
            return [exc]
        half = len(items) // 2
        return [*await _isolated(call, items[:half]), *await _isolated(call, items[half:])]
