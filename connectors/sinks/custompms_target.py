"""Apply write commands to Custompms through its batch endpoint (100 operations a call).

- create: `idempotency_key` from the command, so a redelivered command returns the record
  the first try made. With `match`, an existing record with the same normalised values
  (picked by `streams.mapping.matching`) is updated and linked instead of a duplicate.
- update: a partial PATCH of the command's fields (dotted paths nested).
- delete: a record already gone counts as deleted (a redelivery after success).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.custompms.client import CustompmsClient
from connectors.custompms.errors import item_error
from connectors.custompms.formats import parse_timestamp
from connectors.custompms.types import BatchItemResult, BatchOperation
from connectors.sinks.model import Applied
from foundation.errors import FatalError
from streams.mapping.apply import nest
from streams.mapping.matching import CandidateIndex, adopt, wanted_key

_PLURAL = {"customer": "customers", "project": "projects", "task": "tasks"}


class CustompmsTarget:
    """Applies a batch of commands for Custompms resources."""

    system = "custompms"

    def __init__(self, client: CustompmsClient) -> None:
        self.client = client

    async def apply(self, commands: Sequence[Mapping[str, Any]]) -> list[Applied]:
        """One `Applied` per command, in order. Raises RetriableError if the API is down."""
        results: dict[int, Applied] = {}
        by_resource: dict[str, list[int]] = {}
        for index, command in enumerate(commands):
            by_resource.setdefault(_PLURAL[command["entity"]], []).append(index)
        for resource, indexes in by_resource.items():
            matched = await self._matches(resource, {i: commands[i] for i in indexes})
            operations = [_operation(commands[i], matched.get(i)) for i in indexes]
            items = await self.client.batch(resource, operations)
            for item, index in zip(items, indexes, strict=True):
                results[index] = _applied(resource, commands[index], item, index in matched)
        return [results[i] for i in range(len(commands))]

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


def _operation(command: Mapping[str, Any], matched: Mapping[str, Any] | None) -> BatchOperation:
    fields = nest(dict(command.get("fields") or {}))
    action = command["action"]
    if action == "create" and matched is not None:
        return BatchOperation.update(str(matched["id"]), fields)
    if action == "create":
        return BatchOperation.create(fields, command.get("idempotency_key"))
    if action == "update":
        return BatchOperation.update(str(command["target_id"]), fields)
    if action == "delete":
        return BatchOperation.delete(str(command["target_id"]))
    raise FatalError(
        f"Custompms cannot {action}", flow=command.get("flow"), record=command.get("target_id")
    )


def _applied(
    resource: str, command: Mapping[str, Any], item: BatchItemResult, matched: bool
) -> Applied:
    record = item.record or {}
    if command["action"] == "delete" and item.status == 404:
        return Applied(command, ok=True, target_id=command.get("target_id"))
    error = item_error(resource, item)
    if error is not None:
        error.flow = command.get("flow")
        return Applied(command, ok=False, target_id=command.get("target_id"), error=error)
    updated_at = record.get("updated_at")
    return Applied(
        command,
        ok=True,
        target_id=str(record.get("id") or command.get("target_id")),
        created=command["action"] == "create" and not matched and item.status == 201,
        matched=matched,
        version=record.get("version"),
        modstamp=parse_timestamp(updated_at) if isinstance(updated_at, str) else None,
        written=dict(command.get("fields") or {}),
    )
