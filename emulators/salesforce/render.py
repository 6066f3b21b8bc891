"""Records and write results as Salesforce returns them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from emulators.salesforce.context import record_url
from emulators.salesforce.errors import ApiError, ErrorItem
from emulators.salesforce.schema import FieldDef, ObjectDef
from emulators.salesforce.store import OpResult
from emulators.salesforce.validation import to_json


def record_json(
    obj: ObjectDef,
    record: Mapping[str, Any],
    version: str,
    fields: Sequence[FieldDef] | None = None,
) -> dict[str, Any]:
    """A record with its `attributes`, all fields in schema order (or just `fields`)."""
    out: dict[str, Any] = {
        "attributes": {"type": obj.name, "url": record_url(version, obj.name, record["Id"])}
    }
    for fdef in fields if fields is not None else obj.fields:
        out[fdef.name] = to_json(fdef, record.get(fdef.name))
    return out


def select_fields(obj: ObjectDef, spec: str | None) -> list[FieldDef] | None:
    """The `?fields=A,B` of a record GET, or INVALID_FIELD for an unknown name."""
    if not spec:
        return None
    chosen: list[FieldDef] = []
    for name in (n.strip() for n in spec.split(",")):
        if not name:
            continue
        fdef = obj.field(name)
        if fdef is None:
            raise ApiError.one(
                400,
                "INVALID_FIELD",
                f"No such column '{name}' on entity '{obj.name}'. If you are attempting to use "
                "a custom field, be sure to append the '__c' after the custom field name. "
                "Please reference your WSDL or the describe call for the appropriate names.",
            )
        if fdef not in chosen:
            chosen.append(fdef)
    return chosen


def save_result(result: OpResult) -> dict[str, Any]:
    """One entry of an sObject Collections response."""
    out: dict[str, Any] = {}
    if result.id is not None:
        out["id"] = result.id
    out["success"] = result.success
    out["errors"] = [e.collection() for e in result.errors]
    return out


def raise_for(result: OpResult) -> None:
    """A failed single-record write as the REST error response."""
    if result.success:
        return
    raise ApiError(result.status if result.status >= 400 else 400, list(result.errors))


def errors_of(items: Sequence[ErrorItem]) -> list[dict[str, object]]:
    return [item.rest() for item in items]
