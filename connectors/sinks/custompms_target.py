"""Apply write commands to Custompms through its batch endpoint (100 operations a call).

- create: `idempotency_key` from the command, so a redelivered command returns the record
  the first try made. With `match` (onboarding), an existing record with the same
  normalised values (picked by `streams.mapping.matching`) is reported instead, nothing
  written: the engine claims it and writes to it once the claim is accepted. A key
  Custompms says was used already for another body (422 `idempotency_key_reused`: the
  engine decided the create again after losing its state, with newer values) means the
  record exists: it is adopted (updated to the command's fields and reported as created,
  with its id), never made a second time.
- update: a partial PATCH of the command's fields (dotted paths nested), conditional on the
  version the decision saw (`if_match`, If-Match in the batch) as Salesforce updates are: a
  record someone changed since is not overwritten, the write is skipped as a WriteConflict
  (outcome `conflict`, with the record's current version) and the engine decides again with
  that change. The sink's own earlier writes do not count as someone's change: a command
  decided before the result of the sync's previous write of that record arrived carries the
  version from before it, which this target maps forward.
- delete: a record already gone counts as deleted (a redelivery after success).
- refs: an op whose field takes the id of a record another op of its command creates (a
  Task in the Project created with it) goes in a later round, once that id is known; if
  that create failed, so does the op, naming why.
Each outcome carries the record as Custompms returned it (server defaults and the new
version included; on a conflict, as it is now), so the engine knows what the target holds
without an echo.

A call that fails for a transient reason makes its commands retriable; a batch Custompms
refuses as a whole is split until the refused operations are alone.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from connectors.custompms.client import CustompmsClient
from connectors.custompms.errors import item_error
from connectors.custompms.formats import parse_timestamp
from connectors.custompms.types import BatchItemResult, BatchOperation
from connectors.sinks.model import Applied
from foundation.entities import ENTITY_RESOURCE
from foundation.errors import FatalError, RetriableError, SyncError, TargetGone, WriteConflict
from streams.mapping.apply import nest
from streams.mapping.matching import CandidateIndex, adopt, wanted_key

_RECORD_ID = re.compile(r"\b(?:cus|prj|tsk)_[0-9A-Za-z]+\b")
#: Records whose recent versions the sink itself produced (bounded memory).
_REMEMBERED = 10_000


class CustompmsTarget:
    """Applies a batch of commands for Custompms resources."""

    system = "custompms"

    def __init__(self, client: CustompmsClient) -> None:
        self.client = client
        #: record id -> {version before a sync write: version after it}
        self._ours: OrderedDict[str, dict[int, int]] = OrderedDict()

    async def apply(self, commands: Sequence[Mapping[str, Any]]) -> list[Applied]:
        """One `Applied` per op, in order; failures are reported per op."""
        results: dict[int, Applied] = {}
        waiting = list(range(len(commands)))
        while waiting:
            ready = [i for i in waiting if all(r in results for r in _refs(commands[i]))]
            if not ready:  # refs only point back, so this is a malformed command
                error = FatalError("write ops refer to each other in a cycle")
                results.update({i: Applied(commands[i], ok=False, error=error) for i in waiting})
                break
            waiting = [i for i in waiting if i not in ready]
            resolved: dict[int, Mapping[str, Any]] = {}
            for i in ready:
                filled = _with_refs(commands[i], results)
                if isinstance(filled, Applied):
                    results[i] = filled
                else:
                    resolved[i] = filled
            results.update(await self._wave(resolved))
        return [results[i] for i in range(len(commands))]

    async def _wave(self, commands: Mapping[int, Mapping[str, Any]]) -> dict[int, Applied]:
        """Apply ops whose references are known, per resource."""
        results: dict[int, Applied] = {}
        by_resource: dict[str, list[int]] = {}
        for index, command in commands.items():
            resource = ENTITY_RESOURCE.get(str(command["entity"]))
            if resource is None:
                error = FatalError(
                    f"Custompms has no resource for entity {command['entity']!r}",
                    flow=command.get("flow"),
                )
                results[index] = Applied(command, ok=False, error=error)
                continue
            by_resource.setdefault(resource, []).append(index)
        for resource, indexes in by_resource.items():
            try:
                results.update(await self._resource(resource, commands, indexes))
            except SyncError as exc:  # this resource only; the others go on
                for i in indexes:
                    results[i] = Applied(
                        commands[i], ok=False, target_id=commands[i].get("target_id"), error=exc
                    )
        return results

    async def _resource(
        self, resource: str, commands: Mapping[int, Mapping[str, Any]], indexes: Sequence[int]
    ) -> dict[int, Applied]:
        """The n-th command of a record goes in the n-th batch call, so each conditional
        update is sent with the version the previous one left."""
        results: dict[int, Applied] = {}
        matched = await self._matches(resource, {i: commands[i] for i in indexes})
        rounds: list[list[int]] = []
        seen: dict[str, int] = {}
        for i in indexes:
            target = str(commands[i].get("target_id") or "")
            n = seen[target] = seen.get(target, -1) + 1 if target else 0
            while len(rounds) <= n:
                rounds.append([])
            rounds[n].append(i)
        for round_ in rounds:
            results.update(await self._round(resource, commands, round_, matched))
        return results

    async def _round(
        self,
        resource: str,
        commands: Mapping[int, Mapping[str, Any]],
        indexes: Sequence[int],
        matched: Mapping[int, Mapping[str, Any]],
    ) -> dict[int, Applied]:
        results: dict[int, Applied] = {}
        operations: list[tuple[int, BatchOperation]] = []
        for i in indexes:
            if i in matched:
                results[i] = _adopted(commands[i], matched[i])
                continue
            try:
                operations.append((i, self._operation(commands[i])))
            except FatalError as exc:
                results[i] = Applied(commands[i], ok=False, error=exc)
        items = await self._isolated(resource, [op for _i, op in operations])
        for (index, _op), item in zip(operations, items, strict=True):
            command = commands[index]
            if isinstance(item, SyncError):
                item.flow = item.flow or command.get("flow")
                results[index] = Applied(
                    command, ok=False, target_id=command.get("target_id"), error=item
                )
            else:
                results[index] = await self._applied(resource, command, item)
        return results

    async def _isolated(
        self, resource: str, operations: Sequence[BatchOperation]
    ) -> list[BatchItemResult | SyncError]:
        """One batch call; a request refused as a whole is split until the refused
        operations are alone; a transient failure is every operation's outcome."""
        if not operations:
            return []
        try:
            return list(await self.client.batch(resource, operations))
        except RetriableError as exc:
            return [exc] * len(operations)
        except FatalError as exc:
            if len(operations) == 1:
                return [exc]
            half = len(operations) // 2
            first = await self._isolated(resource, operations[:half])
            return [*first, *await self._isolated(resource, operations[half:])]

    async def _matches(
        self, resource: str, commands: Mapping[int, Mapping[str, Any]]
    ) -> dict[int, dict[str, Any]]:
        """Existing records for the creates that ask for an onboarding match, by index.

        The sink only fetches the candidates (one listing per batch); which one a create
        adopts is decided by `streams.mapping.matching.adopt`.
        """
        wanted = {i: c for i, c in commands.items() if c["action"] == "create" and c["match"]}
        if not wanted:
            return {}
        records = [record async for record in self.client.list(resource, limit=1000)]
        indexes: dict[tuple[str, ...], CandidateIndex] = {}
        found: dict[int, dict[str, Any]] = {}
        for index, command in wanted.items():
            names, _key = wanted_key(command["match"])
            if names not in indexes:
                indexes[names] = CandidateIndex(records, names)
            chosen = adopt(indexes[names], command["match"], command["fields"], id_field="id")
            if chosen is not None:
                found[index] = dict(chosen)
        return found

    # -- conditional updates ----------------------------------------------------------------

    def _if_match(self, record_id: str, version: int | None) -> int | None:
        """The version to send: the decision's, moved past the sync's own later writes."""
        if version is None:
            return None
        moves = self._ours.get(record_id, {})
        seen: set[int] = set()
        while version in moves and version not in seen:
            seen.add(version)
            version = moves[version]
        return version

    def _remember(self, record_id: str, before: int | None, after: int | None) -> None:
        if before is None or after is None or before == after:
            return
        moves = self._ours.setdefault(record_id, {})
        moves[before] = after
        while len(moves) > 4:
            del moves[min(moves)]
        self._ours.move_to_end(record_id)
        while len(self._ours) > _REMEMBERED:
            self._ours.popitem(last=False)

    def _operation(self, command: Mapping[str, Any]) -> BatchOperation:
        fields = nest(dict(command.get("fields") or {}))
        action = command["action"]
        if action == "create":
            return BatchOperation.create(fields, command.get("idempotency_key"))
        if action == "update":
            target = str(command["target_id"])
            version = command.get("if_match")
            return BatchOperation.update(target, fields, self._if_match(target, version))
        if action == "delete":
            return BatchOperation.delete(str(command["target_id"]))
        raise FatalError(
            f"Custompms cannot {action}", flow=command.get("flow"), record=command.get("target_id")
        )

    # -- outcomes ---------------------------------------------------------------------------

    async def _applied(
        self, resource: str, command: Mapping[str, Any], item: BatchItemResult
    ) -> Applied:
        record = item.record or {}
        action = command["action"]
        if action == "delete" and item.status == 404:
            return Applied(command, ok=True, target_id=command.get("target_id"))
        if action == "update" and item.status == 404:
            return _gone(resource, command, item)
        if action == "update" and item.status == 412:
            return await self._conflict(resource, command)
        if action == "create" and item.status == 422 and _code(item) == "idempotency_key_reused":
            original = _original_record(item)
            if original is not None:
                return await self._adopt(resource, command, original)
        error = item_error(resource, item)
        if error is not None:
            error.flow = command.get("flow")
            return Applied(command, ok=False, target_id=command.get("target_id"), error=error)
        if action == "update":
            self._remember(
                str(command["target_id"]), item.operation.if_match, record.get("version")
            )
        return _done(
            command,
            record,
            created=action == "create" and item.status == 201,
            matched=False,
        )

    async def _conflict(self, resource: str, command: Mapping[str, Any]) -> Applied:
        """412: someone changed the record after the decision. Skipped; its current version
        tells the engine whether it has seen that change yet."""
        target = str(command["target_id"])
        try:
            current = await self.client.get(resource, target)
        except FatalError:
            current = {}  # deleted meanwhile: the engine learns it from the delete
        updated_at = current.get("updated_at")
        error = WriteConflict(
            f"{resource} {target} was changed in Custompms (now at version "
            f"{current.get('version')}) after this write was decided (version "
            f"{command.get('if_match')}); skipped, the engine decides again with that change",
            flow=command.get("flow"),
            record=f"{resource}/{target}",
        )
        return Applied(
            command,
            ok=False,
            target_id=target,
            version=current.get("version"),
            modstamp=parse_timestamp(updated_at) if isinstance(updated_at, str) else None,
            error=error,
            record=flat(current) if current else None,
        )

    async def _adopt(self, resource: str, command: Mapping[str, Any], record_id: str) -> Applied:
        """The create's key made `record_id` already: bring it to the command's fields and
        report it as the created record."""
        fields = nest(dict(command.get("fields") or {}))
        try:
            record = await self.client.update(resource, record_id, fields)
        except SyncError as exc:
            exc.flow = command.get("flow")
            return Applied(command, ok=False, target_id=record_id, error=exc)
        return _done(command, record, created=True, matched=False)


def _done(
    command: Mapping[str, Any], record: Mapping[str, Any], *, created: bool, matched: bool
) -> Applied:
    updated_at = record.get("updated_at")
    return Applied(
        command,
        ok=True,
        target_id=str(record.get("id") or command.get("target_id")),
        created=created,
        matched=matched,
        version=record.get("version"),
        modstamp=parse_timestamp(updated_at) if isinstance(updated_at, str) else None,
        written=dict(command.get("fields") or {}),
        record=flat(record) if record else None,
    )


def _adopted(command: Mapping[str, Any], record: Mapping[str, Any]) -> Applied:
    """An existing record the onboarding match found: reported, not written. The engine
    claims it and writes only once the claim is accepted (no other link owns it)."""
    updated_at = record.get("updated_at")
    return Applied(
        command,
        ok=True,
        target_id=str(record["id"]),
        matched=True,
        version=record.get("version"),
        modstamp=parse_timestamp(updated_at) if isinstance(updated_at, str) else None,
        record=flat(record),
    )


def _refs(command: Mapping[str, Any]) -> list[int]:
    return list((command.get("refs") or {}).values())


def _with_refs(
    command: Mapping[str, Any], results: Mapping[int, Applied]
) -> Mapping[str, Any] | Applied:
    """The op with its references filled in, or its failure when a referenced create
    failed."""
    refs = command.get("refs") or {}
    if not refs:
        return command
    fields = dict(command.get("fields") or {})
    for name, index in refs.items():
        referenced = results[index]
        if not referenced.ok or referenced.target_id is None:
            error = FatalError(
                f"{command['entity']} not created: the {referenced.command['entity']} its "
                f"{name} refers to could not be created ({referenced.error})",
                flow=command.get("flow"),
                record=command.get("link_key"),
                field=name,
            )
            return Applied(command, ok=False, error=error)
        fields[name] = referenced.target_id
    return {**command, "fields": fields}


def flat(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A Custompms record as dotted paths (`address.city`), the form mapping rows use."""
    values: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, Mapping):
            values.update(flat(value, f"{prefix}{key}."))
        else:
            values[f"{prefix}{key}"] = value
    return values


def _code(item: BatchItemResult) -> str | None:
    return item.error.code if item.error is not None else None


def _original_record(item: BatchItemResult) -> str | None:
    """The record an earlier use of the idempotency key made, as the 422 names it: a
    `record_id` (or `record.id`) in the error, else an id in its message; None if unnamed."""
    detail = item.error
    if detail is None:
        return None
    named = detail.record_id
    if named:
        return named
    found = _RECORD_ID.search(detail.message)
    return found.group(0) if found else None


def _gone(resource: str, command: Mapping[str, Any], item: BatchItemResult) -> Applied:
    """404 on an update: a person deleted the record after the write was decided."""
    target = str(command["target_id"])
    said = item.error.message if item.error is not None else "not found"
    error = TargetGone(
        f"{resource} {target} is gone from Custompms ({said}); this update was decided "
        "before the delete and is skipped: the flow's delete rule applies when capture "
        "delivers the delete",
        flow=command.get("flow"),
        record=f"{resource}/{target}",
    )
    return Applied(command, ok=False, target_id=target, error=error)
