"""Custom fields declared in the emulator's configuration (a YAML or JSON file).

    fields:
      - object: Task
        name: Region__c          # API name: a letter, then letters/digits/_, ending __c
        type: picklist           # text | picklist | number | checkbox | date | datetime
        label: Region
        values: [EMEA, APAC, Americas]
        restricted: true
      - object: Task
        name: Budget__c
        type: number
        precision: 18            # total digits (at most 18)
        scale: 2                 # digits after the decimal point

Each becomes a `FieldDef` with Salesforce's describe type (text -> string, number ->
double, checkbox -> boolean) and the limits Salesforce's Setup enforces: text length
1..255, number precision 1..18 with scale <= precision, API names of at most 40
characters before `__c`, no double underscore, no trailing underscore.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from emulators.salesforce.schema import FieldDef

FieldKind = Literal["text", "picklist", "number", "checkbox", "date", "datetime"]
#: Salesforce's describe type for each configuration type.
DESCRIBE_TYPES: dict[str, str] = {
    "text": "string",
    "picklist": "picklist",
    "number": "double",
    "checkbox": "boolean",
    "date": "date",
    "datetime": "datetime",
}
_API_NAME = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)__c$")
MAX_NAME = 40  # characters before the __c suffix
MAX_TEXT = 255
MAX_PRECISION = 18


class CustomFieldsError(ValueError):
    """The custom-fields file is invalid; the message names the entry and the problem."""


class CustomFieldSpec(BaseModel):
    """One declared field (validated like Setup > Object Manager > Fields)."""

    model_config = ConfigDict(extra="forbid")

    object: str = Field(min_length=1)
    name: str
    type: FieldKind
    label: str | None = Field(None, min_length=1, max_length=40)
    length: int | None = Field(None, ge=1, le=MAX_TEXT)
    values: list[str] = Field(default_factory=list)
    restricted: bool = False
    default: str | bool | None = None
    precision: int = Field(18, ge=1, le=MAX_PRECISION)
    scale: int = Field(0, ge=0, le=MAX_PRECISION)
    external_id: bool = False
    required: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> CustomFieldSpec:
        if not _API_NAME.match(self.name) or len(self.name) - 3 > MAX_NAME:
            raise ValueError(
                f"name {self.name!r} is not a custom field API name: start with a letter, use "
                f"letters, digits and single underscores, at most {MAX_NAME} characters, "
                "and end with __c"
            )
        if self.type == "picklist":
            if not self.values:
                raise ValueError("a picklist needs values")
            if len(set(self.values)) != len(self.values):
                raise ValueError("picklist values must be unique")
            if any(not v or len(v) > MAX_TEXT for v in self.values):
                raise ValueError(f"picklist values need 1 to {MAX_TEXT} characters")
            if self.default is not None and self.default not in self.values:
                raise ValueError("the default must be one of the values")
        elif self.values or self.restricted:
            raise ValueError("values and restricted apply to picklists only")
        if self.length is not None and self.type != "text":
            raise ValueError("length applies to text fields only")
        if self.scale > self.precision:
            raise ValueError("scale must not exceed precision")
        if self.external_id and self.type not in ("text", "number"):
            raise ValueError("only text and number fields can be external ids")
        if self.type == "checkbox" and self.required:
            raise ValueError("a checkbox cannot be required (it is never empty)")
        if self.default is not None and self.type not in ("picklist", "checkbox"):
            raise ValueError("default applies to picklist and checkbox fields only")
        if self.type == "checkbox" and not isinstance(self.default, bool | None):
            raise ValueError("a checkbox default is true or false")
        return self

    def field_def(self) -> FieldDef:
        """The field as the schema tables describe it."""
        kind = DESCRIBE_TYPES[self.type]
        label = self.label or self.name[:-3].replace("_", " ")
        checkbox = self.type == "checkbox"
        length = {"text": self.length or MAX_TEXT, "picklist": MAX_TEXT}.get(self.type, 0)
        default: Any = self.default
        if checkbox:
            default = bool(self.default)
        return FieldDef(
            self.name,
            kind,
            label,
            length=length,
            nillable=not (self.required or checkbox),
            defaulted_on_create=checkbox or default is not None,
            default=default,
            picklist=tuple(self.values),
            restricted=self.restricted,
            external_id=self.external_id,
            custom=True,
            precision=self.precision if self.type == "number" else 0,
            scale=self.scale if self.type == "number" else 0,
        )


def parse_custom_fields(data: Any, source: str = "custom fields") -> list[tuple[str, FieldDef]]:
    """`(object, FieldDef)` pairs from parsed YAML/JSON: a list, or `{"fields": [...]}`."""
    entries = data.get("fields") if isinstance(data, dict) else data
    if data is None:
        return []
    if not isinstance(entries, list):
        raise CustomFieldsError(f"{source}: expected a list of fields (or a 'fields:' list)")
    out: list[tuple[str, FieldDef]] = []
    for index, entry in enumerate(entries, start=1):
        where = _describe_entry(source, index, entry)
        try:
            spec = CustomFieldSpec.model_validate(entry)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            loc = ".".join(str(p) for p in first.get("loc", ()))
            problem = str(first.get("msg", "invalid")).removeprefix("Value error, ")
            raise CustomFieldsError(f"{where}: {loc + ': ' if loc else ''}{problem}") from None
        out.append((spec.object, spec.field_def()))
    return out


def load_custom_fields(path: Path) -> list[tuple[str, FieldDef]]:
    """Read and validate a custom-fields file (YAML; JSON is valid YAML too)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CustomFieldsError(f"cannot read the custom-fields file {path}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CustomFieldsError(f"{path}: not valid YAML/JSON: {exc}") from exc
    return parse_custom_fields(data, str(path))


def _describe_entry(source: str, index: int, entry: Any) -> str:
    if isinstance(entry, dict) and entry.get("object") and entry.get("name"):
        return f"{source}: field {index} ({entry['object']}.{entry['name']})"
    return f"{source}: field {index}"
