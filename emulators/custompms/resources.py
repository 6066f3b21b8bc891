"""The three resources as data: id prefix, models, references and list filters.

Routes and the store are generic; everything that differs between customers, projects and
tasks is in the `RESOURCES` table below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from emulators.custompms import models
from emulators.custompms.errors import ApiError, validation_error

ResourceName = Literal["customers", "projects", "tasks"]

EMPTY_ADDRESS: Mapping[str, None] = dict.fromkeys(models.AddressInput.model_fields)


@dataclass(frozen=True, slots=True)
class Reference:
    """`field` holds the id of a live record of `target`."""

    field: str
    target: ResourceName


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    name: ResourceName
    singular: str
    prefix: str
    record_model: type[BaseModel]
    create_model: type[BaseModel]
    patch_model: type[BaseModel]
    #: the reference kept in the indexed `parent` column (deletes check it for dependents)
    parent: Reference | None
    #: extra `GET /{resource}?field=value` filters (exact match; `name` is case-insensitive)
    filters: tuple[str, ...]
    #: names of the custom fields declared for this resource (see custom_fields.py)
    custom_fields: tuple[str, ...] = ()

    def validate_create(self, data: Any) -> dict[str, Any]:
        """The full field set of a new record (defaults applied), or a 422 naming the field."""
        try:
            model = self.create_model.model_validate(data)
        except ValidationError as exc:
            raise validation_error(exc.errors(include_url=False)) from None
        fields = model.model_dump()
        if "address" in fields:
            fields["address"] = {**EMPTY_ADDRESS, **(fields["address"] or {})}
        fields["custom_fields"] = self.complete_custom(fields.get("custom_fields"))
        return fields

    def complete_custom(self, values: Mapping[str, Any] | None) -> dict[str, Any]:
        """Every declared custom field (null when unset); undeclared ones are not shown."""
        given = values or {}
        return {name: given.get(name) for name in self.custom_fields}

    def shown(self, record: dict[str, Any]) -> dict[str, Any]:
        """A stored record as the API returns it (custom fields completed)."""
        record["custom_fields"] = self.complete_custom(record.get("custom_fields"))
        return record

    def validate_patch(self, data: Any) -> dict[str, Any]:
        """Only the fields the client sent (null included), or a 422 naming the field."""
        try:
            model = self.patch_model.model_validate(data)
        except ValidationError as exc:
            raise validation_error(exc.errors(include_url=False)) from None
        return model.model_dump(exclude_unset=True)

    def new_id(self, number: int) -> str:
        return f"{self.prefix}_{number:06d}"


def apply_patch(current: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Shallow merge, except `address` and `custom_fields`, which merge field by field
    (null clears all)."""
    merged = dict(current)
    for key, value in patch.items():
        if key == "address":
            merged["address"] = (
                dict(EMPTY_ADDRESS) if value is None else {**current["address"], **value}
            )
        elif key == "custom_fields":
            before = current.get("custom_fields") or {}
            merged[key] = dict.fromkeys(before) if value is None else {**before, **value}
        else:
            merged[key] = value
    return merged


RESOURCES: Mapping[str, ResourceSpec] = {
    "customers": ResourceSpec(
        name="customers",
        singular="customer",
        prefix="cus",
        record_model=models.Customer,
        create_model=models.CustomerCreate,
        patch_model=models.CustomerPatch,
        parent=None,
        filters=("name", "kind"),
    ),
    "projects": ResourceSpec(
        name="projects",
        singular="project",
        prefix="prj",
        record_model=models.Project,
        create_model=models.ProjectCreate,
        patch_model=models.ProjectPatch,
        parent=Reference("customer_id", "customers"),
        filters=("customer_id", "status"),
    ),
    "tasks": ResourceSpec(
        name="tasks",
        singular="task",
        prefix="tsk",
        record_model=models.Task,
        create_model=models.TaskCreate,
        patch_model=models.TaskPatch,
        parent=Reference("project_id", "projects"),
        filters=("project_id", "status"),
    ),
}


def children_of(resource: str) -> list[ResourceSpec]:
    """Resources whose parent reference points at `resource` (deleted with cascade=true)."""
    return [spec for spec in RESOURCES.values() if spec.parent and spec.parent.target == resource]


def spec_for(resource: str) -> ResourceSpec:
    try:
        return RESOURCES[resource]
    except KeyError:
        raise ApiError(404, "not_found", f"no resource named {resource!r}") from None
