"""Custom fields of Custompms resources, declared in the emulator's configuration.

    fields:
      - resource: tasks          # customers | projects | tasks
        name: region             # lower case: a letter, then letters, digits, _ (max 64)
        type: enum               # string | enum | number | boolean | date | datetime
        values: [emea, apac]     # enum only
      - resource: projects
        name: budget
        type: number
      - resource: customers
        name: segment
        type: string
        max_length: 80           # string only; default 255

Every record of the resource then carries `custom_fields` with each declared field (null
when unset); the OpenAPI document types them; writes are validated like the built-in
fields (an undeclared name is `422 unknown_field` naming `custom_fields.<name>`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    create_model,
    model_validator,
)

from emulators.custompms import models
from emulators.custompms.resources import ResourceSpec

CustomKind = Literal["string", "enum", "number", "boolean", "date", "datetime"]
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
MAX_STRING = 32000


class CustomFieldsError(ValueError):
    """The custom-fields file is invalid; the message names the entry and the problem."""


class CustomFieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource: Literal["customers", "projects", "tasks"]
    name: str = Field(pattern=NAME_PATTERN)
    type: CustomKind
    values: list[str] = Field(default_factory=list)
    max_length: int | None = Field(None, ge=1, le=MAX_STRING)
    description: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> CustomFieldSpec:
        if self.type == "enum":
            if not self.values or len(set(self.values)) != len(self.values):
                raise ValueError("an enum needs distinct values")
            if any(not v or len(v) > 255 for v in self.values):
                raise ValueError("enum values need 1 to 255 characters")
        elif self.values:
            raise ValueError("values apply to enum fields only")
        if self.max_length is not None and self.type != "string":
            raise ValueError("max_length applies to string fields only")
        return self

    def annotation(self) -> Any:
        """The pydantic type of the value (None is allowed separately)."""
        if self.type == "string":
            return Annotated[str, StringConstraints(max_length=self.max_length or 255)]
        if self.type == "enum":
            return Literal[tuple(self.values)]
        if self.type == "number":
            return Annotated[float, Field(allow_inf_nan=False)]  # JSON has no NaN/Infinity
        if self.type == "boolean":
            return bool
        if self.type == "date":
            return models.DateValue
        return models.DateTimeValue


@dataclasses.dataclass(frozen=True, slots=True)
class CustomFields:
    """Declared custom fields per resource name."""

    by_resource: Mapping[str, tuple[CustomFieldSpec, ...]] = dataclasses.field(default_factory=dict)

    def of(self, resource: str) -> tuple[CustomFieldSpec, ...]:
        return self.by_resource.get(resource, ())


def parse_custom_fields(data: Any, source: str = "custom fields") -> CustomFields:
    """Validated declarations from parsed YAML/JSON (a list, or `{"fields": [...]}`)."""
    if data is None:
        return CustomFields()
    entries = data.get("fields") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise CustomFieldsError(f"{source}: expected a list of fields (or a 'fields:' list)")
    grouped: dict[str, list[CustomFieldSpec]] = {}
    for index, entry in enumerate(entries, start=1):
        where = f"{source}: field {index}"
        if isinstance(entry, dict) and entry.get("resource") and entry.get("name"):
            where += f" ({entry['resource']}.{entry['name']})"
        try:
            spec = CustomFieldSpec.model_validate(entry)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            loc = ".".join(str(p) for p in first.get("loc", ()))
            problem = str(first.get("msg", "invalid")).removeprefix("Value error, ")
            raise CustomFieldsError(f"{where}: {loc + ': ' if loc else ''}{problem}") from None
        group = grouped.setdefault(spec.resource, [])
        if any(existing.name == spec.name for existing in group):
            raise CustomFieldsError(f"{where}: {spec.resource} already declares {spec.name}")
        group.append(spec)
    return CustomFields({name: tuple(specs) for name, specs in grouped.items()})


def load_custom_fields(path: Path) -> CustomFields:
    """Read and validate a custom-fields file (YAML; JSON is valid YAML too)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CustomFieldsError(f"cannot read the custom-fields file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise CustomFieldsError(f"{path}: not valid YAML/JSON: {exc}") from exc
    return parse_custom_fields(data, str(path))


def _values_model(
    title: str, specs: Sequence[CustomFieldSpec], *, written: bool
) -> type[BaseModel]:
    """The `custom_fields` object: all optional on input, all present (maybe null) on output."""
    config = ConfigDict(strict=True, extra="forbid") if written else ConfigDict()
    fields: dict[str, Any] = {}
    for spec in specs:
        info = (
            Field(None, description=spec.description)
            if written
            else Field(description=spec.description)
        )
        fields[spec.name] = (spec.annotation() | None, info)
    model: type[BaseModel] = create_model(title, __config__=config, **fields)
    return model


def with_custom_fields(spec: ResourceSpec, custom: Sequence[CustomFieldSpec]) -> ResourceSpec:
    """`spec` whose create, patch and record models carry the `custom_fields` object."""
    base = spec.record_model.__name__
    written = _values_model(f"{base}CustomFieldsInput", custom, written=True)
    shown = _values_model(f"{base}CustomFields", custom, written=False)
    help_in = "Custom fields (declared in the configuration); on PATCH merged field by field."
    optional: dict[str, Any] = {"custom_fields": (written | None, Field(None, description=help_in))}
    present: dict[str, Any] = {
        "custom_fields": (shown, Field(description="Every declared custom field, null when unset."))
    }
    create = create_model(spec.create_model.__name__, __base__=spec.create_model, **optional)
    patch = create_model(spec.patch_model.__name__, __base__=spec.patch_model, **optional)
    record = create_model(base, __base__=spec.record_model, **present)
    return dataclasses.replace(
        spec,
        create_model=create,
        patch_model=patch,
        record_model=record,
        custom_fields=tuple(s.name for s in custom),
    )
