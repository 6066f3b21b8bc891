"""Apply write ops to Salesforce with sObject Collections (200 records a call).

The sink hands this adapter the ops of a batch of write commands, flattened
(connectors/sinks/model.py); it returns one `Applied` per op, in order.

- update: one Collections PATCH per 200 records; several updates of one record in a batch
  go in successive calls, in order (Collections refuses a record twice in one call).
  Updates carrying `if_match` (the SystemModstamp the engine decided on) are checked first
  with one Collections retrieve per 200 records: a record changed since is not overwritten
  (WriteConflict; the engine decides again once that change arrives), so a person's edit
  made while a sync write was on its way is kept. Who changed it last does not excuse a
  change: a sync write that landed after a person's edit would otherwise hide that edit
  from an older decision replayed behind it.
- delete: one Collections DELETE per 200 ids; a record already gone counts as deleted.
- upsert (a Custompms record's new twin): Collections upsert by external id, 200 a call,
  never re-creating a twin a person deleted (connectors/sinks/salesforce_upserts.py).

Failures stay with the ops they belong to (connectors/sinks/salesforce_outcomes.py): each
sObject gets its own calls (a failing sObject does not fail the others), a call that fails
for a transient reason makes its ops retriable, a call Salesforce refuses as a whole is
split until the refused records are alone, and per-record transient errors
(UNABLE_TO_LOCK_ROW) are retriable rather than dead letters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.formats import parse_datetime
from connectors.salesforce.types import RecordResult
from connectors.sinks.model import Applied
from connectors.sinks.salesforce_outcomes import (
    GONE_CODES,
    applied,
    conflict,
    guarded,
    isolated,
    refused,
)
from connectors.sinks.salesforce_upserts import upserts as apply_upserts
from foundation.errors import FatalError
from streams.core.model import EXTERNAL_ID_FIELD


class SalesforceTarget:
    """Applies a batch of commands for Salesforce sObjects."""

    system = "salesforce"

    def __init__(self, client: SalesforceClient, *, conditional: bool = True) -> None:
        self.client = client
        self.conditional = conditional

    async def apply(self, commands: Sequence[Mapping[str, Any]]) -> list[Applied]:
        """One `Applied` per command, in order; failures are reported per command."""
        results: dict[int, Applied] = {}
        updates: dict[str, dict[str, list[int]]] = {}
        deletes: dict[str, list[int]] = {}
        upserts: list[int] = []
        for index, command in enumerate(commands):
            action = command["action"]
            sobject = str(command["entity"])
            refused_why = _unsupported(command)
            if refused_why is not None:
                results[index] = Applied(command, ok=False, error=refused_why)
            elif action == "update":
                by_id = updates.setdefault(sobject, {})
                by_id.setdefault(str(command["target_id"]), []).append(index)
            elif action == "delete":
                deletes.setdefault(sobject, []).append(index)
            else:
                upserts.append(index)
        for by_id in updates.values():
            indexes = [i for group in by_id.values() for i in group]
            results.update(await guarded(commands, indexes, self._updates(commands, by_id)))
        for indexes in deletes.values():
            results.update(await guarded(commands, indexes, self._deletes(commands, indexes)))
        if upserts:
            results.update(await apply_upserts(self.client, commands, upserts))
        return [results[i] for i in range(len(commands))]

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
            outcomes = await isolated(self.client.collections_update, records)
            for (target_id, index), outcome in zip(batch, outcomes, strict=True):
                results[index] = (
                    applied(commands[index], outcome, target_id)
                    if isinstance(outcome, RecordResult)
                    else refused(commands[index], outcome, target_id)
                )
        return results

    async def _conflicts(
        self, commands: Sequence[Mapping[str, Any]], updates: Mapping[str, list[int]]
    ) -> dict[int, Applied]:
        """Updates whose record changed after the decision (SystemModstamp newer than
        `if_match`): skipped as WriteConflicts. One Collections retrieve per sObject type and
        200 records; the window left is that call's.

        Any newer change counts, the sync's own included. The record's last modifier says
        nothing about the changes before it: a person's edit, then a sync write of another
        field, then an older decision (replayed after an engine restart, or decided before
        the person's edit reached the engine) would put the person's field back. The sync's
        own change is captured like any other (as an echo), and the engine decides again
        once it has folded it, so a conflict it caused costs one more round, never a value."""
        if not self.conditional:
            return {}
        checked: dict[str, dict[str, list[int]]] = {}
        for target_id, indexes in updates.items():
            conditional = [i for i in indexes if commands[i].get("if_match") is not None]
            if conditional:
                sobject = str(commands[conditional[0]]["entity"])
                checked.setdefault(sobject, {})[target_id] = conditional
        results: dict[int, Applied] = {}
        for sobject, by_id in checked.items():
            ids = list(by_id)
            current = await self.client.collections_retrieve(sobject, ids, ["Id", "SystemModstamp"])
            for target_id, record in zip(ids, current, strict=True):
                if record is None:
                    continue  # gone: the update reports it
                stamp = parse_datetime(str(record["SystemModstamp"]))
                changed_ms = int(stamp.timestamp() * 1000)
                for index in by_id[target_id]:
                    if changed_ms > int(commands[index]["if_match"]):
                        results[index] = conflict(commands[index], target_id, stamp)
        return results

    async def _deletes(
        self, commands: Sequence[Mapping[str, Any]], deletes: Sequence[int]
    ) -> dict[int, Applied]:
        ids = [str(commands[i]["target_id"]) for i in deletes]
        outcomes = await isolated(self.client.collections_delete, ids)
        results: dict[int, Applied] = {}
        for index, target_id, outcome in zip(deletes, ids, outcomes, strict=True):
            if not isinstance(outcome, RecordResult):
                results[index] = refused(commands[index], outcome, target_id)
                continue
            gone = not outcome.success and any(e.code in GONE_CODES for e in outcome.errors)
            results[index] = (
                Applied(commands[index], ok=True, target_id=target_id)
                if gone
                else applied(commands[index], outcome, target_id)
            )
        return results


def _unsupported(op: Mapping[str, Any]) -> FatalError | None:
    """Why this adapter cannot apply `op` (a dead letter), or None."""
    if op["action"] not in ("update", "delete", "upsert"):
        return FatalError(
            f"Salesforce sink cannot {op['action']}; creates are upserts by {EXTERNAL_ID_FIELD}",
            flow=op.get("flow"),
        )
    if op.get("refs"):
        # The engine sends references between ops to Custompms only; applying one without
        # the record it refers to would write a wrong record.
        return FatalError(
            f"Salesforce sink cannot fill references ({', '.join(op['refs'])}); not applied",
            flow=op.get("flow"),
        )
    return None
