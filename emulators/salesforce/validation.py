"""Turn a JSON request body into field values, validating like Salesforce's DML layer.

Errors use Salesforce's status codes: INVALID_FIELD (no such field),
INVALID_FIELD_FOR_INSERT_UPDATE (read-only field), JSON_PARSER_ERROR (wrong JSON type),
STRING_TOO_LONG, INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST, MALFORMED_ID,
INVALID_CROSS_REFERENCE_KEY, NUMBER_OUTSIDE_VALID_RANGE and REQUIRED_FIELD_MISSING.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from emulators.salesforce import ids, timefmt
from emulators.salesforce.errors import ErrorItem, RecordError
from emulators.salesforce.schema import (
    BY_PREFIX,
    CLOSED_STATUSES,
    ID_TYPES,
    TEXT_TYPES,
    FieldDef,
    ObjectDef,
)

#: Looks a record up by its 18-character id: (sobject name, fields) or None.
Lookup = Callable[[str], "tuple[str, Mapping[str, Any]] | None"]

_JAVA_TYPES = {
    "boolean": "boolean",
    "int": "int",
    "double": "double",
    "date": "date",
    "datetime": "datetime",
}


def _json_token(value: Any) -> str:
    if isinstance(value, bool):
        return "VALUE_TRUE" if value else "VALUE_FALSE"
    if isinstance(value, int):
        return "VALUE_NUMBER_INT"
    if isinstance(value, float):
        return "VALUE_NUMBER_FLOAT"
    if isinstance(value, dict):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    return "VALUE_STRING"


def _parser_error(fdef: FieldDef, value: Any) -> RecordError:
    java = _JAVA_TYPES.get(fdef.type, "String")
    shown = value if not isinstance(value, dict | list) else ""
    return RecordError(
        [
            ErrorItem(
                "JSON_PARSER_ERROR",
                f"Cannot deserialize instance of {java} from {_json_token(value)} value "
                f"{shown} or request may be missing a required field",
            )
        ]
    )


def coerce(fdef: FieldDef, value: Any) -> Any:
    """A JSON value as the field's internal value; raises JSON_PARSER_ERROR on a type clash."""
    if value is None:
        return False if fdef.type == "boolean" else None
    kind = fdef.type
    if kind in TEXT_TYPES:
        if isinstance(value, dict | list):
            raise _parser_error(fdef, value)
        text = str(value).lower() if isinstance(value, bool) else str(value)
        return text or None  # Salesforce stores an empty string as null
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _parser_error(fdef, value)
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        raise _parser_error(fdef, value)
    if kind == "double":
        return _coerce_number(fdef, value)
    if kind in ("date", "datetime"):
        if not isinstance(value, str):
            raise _parser_error(fdef, value)
        try:
            return timefmt.parse_date(value) if kind == "date" else timefmt.parse_datetime(value)
        except ValueError as exc:
            raise _parser_error(fdef, value) from exc
    raise _parser_error(fdef, value)


def _coerce_number(fdef: FieldDef, value: Any) -> float:
    # JSON numbers, or numeric strings (Salesforce's JSON parser accepts "12.5" too).
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError as exc:
            raise _parser_error(fdef, value) from exc
    else:
        raise _parser_error(fdef, value)
    if not math.isfinite(number):
        raise _parser_error(fdef, value)
    return number


def round_to_scale(value: float, scale: int) -> float:
    """A number field's value as stored: rounded half up to the field's decimal places."""
    step = Decimal(1).scaleb(-scale)
    return float(Decimal(repr(value)).quantize(step, rounding=ROUND_HALF_UP))


def _check_value(fdef: FieldDef, value: Any, lookup: Lookup) -> ErrorItem | None:
    if value is None:
        return None
    if fdef.type == "double" and fdef.precision and isinstance(value, float):
        limit = 10 ** (fdef.precision - fdef.scale)
        if abs(round_to_scale(value, fdef.scale)) >= limit:
            return ErrorItem(
                "NUMBER_OUTSIDE_VALID_RANGE",
                f"{fdef.label}: value outside of valid range on numeric field: {value}",
                (fdef.name,),
            )
        return None
    if isinstance(value, str) and fdef.type == "reference":
        return _check_reference(fdef, value, lookup)
    if isinstance(value, str) and fdef.type == "id":
        return None if ids.is_valid(value) else ErrorItem("MALFORMED_ID", f"malformed id {value}")
    if isinstance(value, str) and fdef.length and len(value) > fdef.length:
        shown = value if len(value) <= 80 else value[:77] + "..."
        return ErrorItem(
            "STRING_TOO_LONG",
            f"{fdef.label}: data value too large: {shown} (max length={fdef.length})",
            (fdef.name,),
        )
    if fdef.restricted and value not in fdef.picklist:
        return ErrorItem(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{fdef.label}: bad value for restricted picklist field: {value}",
            (fdef.name,),
        )
    return None


def _check_reference(fdef: FieldDef, value: str, lookup: Lookup) -> ErrorItem | None:
    malformed = ErrorItem(
        "MALFORMED_ID", f"{fdef.label}: id value of incorrect type: {value}", (fdef.name,)
    )
    try:
        canonical = ids.normalize(value)
    except ids.MalformedId:
        return malformed
    target = BY_PREFIX.get(canonical[:3])
    if target is None:
        # An object this emulator does not model (Contact, Account, ...): accept the id.
        return None
    if target.name not in fdef.reference_to:
        return malformed
    found = lookup(canonical)
    if found is None or (target.name == "User" and not found[1].get("IsActive", True)):
        return ErrorItem("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", (fdef.name,))
    return None


def prepare_write(
    obj: ObjectDef,
    body: Mapping[str, Any],
    *,
    creating: bool,
    lookup: Lookup,
    admin: bool = False,
) -> dict[str, Any]:
    """Validated field values from `body` (canonical names); raises `RecordError`.

    `admin` (the emulator's bulk-load route) may also set read-only fields such as
    CreatedDate or SystemModstamp, to build test fixtures with a history.
    """
    values: dict[str, Any] = {}
    read_only: list[str] = []
    for key, raw in body.items():
        if key == "attributes":
            continue
        fdef = obj.field(key)
        if fdef is None:
            raise RecordError(
                [
                    ErrorItem(
                        "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}"
                    )
                ]
            )
        if fdef.name == "Id" and not admin:
            if creating:
                raise RecordError(
                    [
                        ErrorItem(
                            "INVALID_FIELD_FOR_INSERT_UPDATE",
                            "cannot specify Id in an insert call",
                            ("Id",),
                        )
                    ]
                )
            continue  # the caller checks it matches the record being updated
        writable = fdef.createable if creating else fdef.updateable
        if not writable and not admin:
            read_only.append(fdef.name)
            continue
        values[fdef.name] = coerce(fdef, raw)
    if read_only:
        raise RecordError(
            [
                ErrorItem(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {', '.join(read_only)}. Please check the "
                    "security settings of this field and verify that it is read/write for "
                    "your profile or permission set.",
                    tuple(read_only),
                )
            ]
        )
    problems = [
        item
        for name, value in values.items()
        if (item := _check_value(_field(obj, name), value, lookup)) is not None
    ]
    missing = [
        f.name
        for f in obj.fields
        if (creating and f.required_on_create and values.get(f.name) is None)
        or (not f.nillable and f.type != "boolean" and f.name in values and values[f.name] is None)
    ]
    if missing:
        problems.append(
            ErrorItem(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                tuple(missing),
            )
        )
    if problems:
        raise RecordError(problems)
    for name, value in values.items():
        fdef = _field(obj, name)
        if isinstance(value, str) and fdef.type in ID_TYPES:
            values[name] = ids.normalize(value)  # stored and returned as 18 characters
        elif isinstance(value, float) and fdef.type == "double" and fdef.precision:
            values[name] = round_to_scale(value, fdef.scale)
    return values


def _field(obj: ObjectDef, name: str) -> FieldDef:
    found = obj.field(name)
    assert found is not None
    return found


def apply_defaults(obj: ObjectDef, values: dict[str, Any], user_id: str) -> None:
    """Fill fields a create may omit: declared defaults, the owner, the flags."""
    for fdef in obj.fields:
        if fdef.name in values:
            continue
        if fdef.default is not None:
            values[fdef.name] = fdef.default
        elif fdef.name == "OwnerId":
            values[fdef.name] = user_id
        elif fdef.type == "boolean":
            values[fdef.name] = False


def derive(
    obj: ObjectDef, old: Mapping[str, Any] | None, new: dict[str, Any], now: datetime
) -> None:
    """Server-computed fields: Task.IsClosed, IsHighPriority and CompletedDateTime."""
    if obj.name != "Task":
        return
    closed = new.get("Status") in CLOSED_STATUSES
    was_closed = bool(old and old.get("IsClosed"))
    new["IsClosed"] = closed
    new["IsHighPriority"] = new.get("Priority") == "High"
    if closed and not was_closed:
        new["CompletedDateTime"] = now
    elif not closed:
        new["CompletedDateTime"] = None


def to_json(fdef: FieldDef, value: Any) -> Any:
    """An internal value in Salesforce's JSON output format."""
    if value is None:
        return None
    if fdef.type == "datetime" and isinstance(value, datetime):
        return timefmt.format_datetime(value)
    if fdef.type == "date" and isinstance(value, date):
        return timefmt.format_date(value)
    return value
