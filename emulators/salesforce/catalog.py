"""The sObjects one emulator instance serves: the standard schema plus configured custom fields.

The standard tables in `schema.py` are shared and never change. A `Catalog` is per
instance: custom fields declared in the emulator's configuration are appended to their
object, and an administrator may add a value to a picklist while the emulator runs (as in
Setup), so definitions are replaced, never mutated: a reader holding an `ObjectDef` keeps
a consistent one.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Sequence

from emulators.salesforce.schema import OBJECTS, FieldDef, ObjectDef


class CatalogError(ValueError):
    """A custom field or picklist change the catalog cannot accept (the message says why)."""


class Catalog:
    """Name -> ObjectDef for one emulator instance (thread-safe)."""

    def __init__(self, objects: Iterable[ObjectDef] = OBJECTS.values()) -> None:
        self._lock = threading.Lock()
        self._objects: dict[str, ObjectDef] = {o.name.casefold(): o for o in objects}

    @classmethod
    def with_custom_fields(cls, fields: Sequence[tuple[str, FieldDef]]) -> Catalog:
        """The standard objects with `(object name, field)` pairs appended."""
        catalog = cls()
        for sobject, fdef in fields:
            catalog.add_field(sobject, fdef)
        return catalog

    def find(self, name: str) -> ObjectDef | None:
        """The sObject named `name`, case-insensitively, or None."""
        return self._objects.get(name.casefold())

    def objects(self) -> list[ObjectDef]:
        return list(self._objects.values())

    def add_field(self, sobject: str, fdef: FieldDef) -> ObjectDef:
        """Append a custom field to an object; its name must be new on that object."""
        with self._lock:
            obj = self._require(sobject)
            if obj.field(fdef.name) is not None:
                raise CatalogError(f"{obj.name} already has a field named {fdef.name}")
            updated = _rebuild(obj, (*obj.fields, fdef))
            self._objects[obj.name.casefold()] = updated
            return updated

    def add_picklist_value(
        self, sobject: str, field: str, value: str, *, default: bool = False
    ) -> FieldDef:
        """Add `value` to a picklist (standard or custom); an existing value is kept once."""
        if not value or len(value) > 255:
            raise CatalogError("a picklist value needs 1 to 255 characters")
        with self._lock:
            obj = self._require(sobject)
            fdef = obj.field(field)
            if fdef is None or fdef.type not in ("picklist", "combobox"):
                raise CatalogError(f"{obj.name}.{field} is not a picklist field")
            values = fdef.picklist if value in fdef.picklist else (*fdef.picklist, value)
            changed = dataclasses.replace(
                fdef, picklist=values, default=value if default else fdef.default
            )
            fields = tuple(changed if f.name == fdef.name else f for f in obj.fields)
            self._objects[obj.name.casefold()] = _rebuild(obj, fields)
            return changed

    def _require(self, sobject: str) -> ObjectDef:
        obj = self._objects.get(sobject.casefold())
        if obj is None:
            known = ", ".join(sorted(o.name for o in self._objects.values()))
            raise CatalogError(f"no sObject named {sobject!r} (the emulator has {known})")
        return obj


def _rebuild(obj: ObjectDef, fields: tuple[FieldDef, ...]) -> ObjectDef:
    # A fresh ObjectDef (its field index is built in __post_init__), not a mutated one.
    return ObjectDef(
        obj.name,
        obj.label,
        obj.label_plural,
        obj.key_prefix,
        fields,
        createable=obj.createable,
        updateable=obj.updateable,
        deletable=obj.deletable,
    )
