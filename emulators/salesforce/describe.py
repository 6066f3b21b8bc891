"""Describe results (sObject Describe, Describe Global) built from the schema tables."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from emulators.salesforce.schema import OBJECTS, FieldDef, ObjectDef

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "int": "xsd:int",
    "double": "xsd:double",
}


def _urls(obj: ObjectDef, base: str) -> dict[str, str]:
    root = f"{base}/sobjects/{obj.name}"
    return {
        "sobject": root,
        "describe": f"{root}/describe",
        "rowTemplate": f"{root}/{{ID}}",
    }


def describe_field(fdef: FieldDef) -> dict[str, Any]:
    text = fdef.type not in _SOAP_TYPES or fdef.type in ("id", "reference")
    picklist = [
        {
            "active": True,
            "defaultValue": value == fdef.default,
            "label": value,
            "validFor": None,
            "value": value,
        }
        for value in fdef.picklist
    ]
    return {
        "name": fdef.name,
        "label": fdef.label,
        "type": fdef.type,
        "soapType": _SOAP_TYPES.get(fdef.type, "xsd:string"),
        "length": fdef.length if text else 0,
        "byteLength": fdef.length * 3 if text else 0,
        "digits": 9 if fdef.type == "int" else 0,
        "precision": fdef.precision,
        "scale": fdef.scale,
        "nillable": fdef.nillable,
        "createable": fdef.createable,
        "updateable": fdef.updateable,
        "defaultedOnCreate": fdef.defaulted_on_create,
        "defaultValue": fdef.default if fdef.type == "boolean" else None,
        "defaultValueFormula": None,
        "picklistValues": picklist,
        "restrictedPicklist": fdef.restricted,
        "externalId": fdef.external_id,
        "idLookup": fdef.type == "id" or fdef.external_id,
        "unique": fdef.unique,
        "caseSensitive": False,
        "custom": fdef.custom,
        "calculated": False,
        "autoNumber": False,
        "filterable": fdef.type != "textarea" or fdef.length <= 255,
        "sortable": fdef.type != "textarea" or fdef.length <= 255,
        "groupable": fdef.type not in ("textarea", "datetime"),
        "referenceTo": list(fdef.reference_to),
        "relationshipName": fdef.relationship_name,
        "polymorphicForeignKey": len(fdef.reference_to) > 1,
        "htmlFormatted": False,
        "nameField": fdef.name == "Name" or (fdef.name == "Subject"),
    }


def describe_global_entry(obj: ObjectDef, base: str) -> dict[str, Any]:
    return {
        "name": obj.name,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "keyPrefix": obj.key_prefix,
        "custom": False,
        "createable": obj.createable,
        "updateable": obj.updateable,
        "deletable": obj.deletable,
        "undeletable": obj.deletable,
        "queryable": True,
        "retrieveable": True,
        "replicateable": True,
        "searchable": obj.name != "Organization",
        "layoutable": obj.name in ("Task", "User"),
        "triggerable": obj.name in ("Task", "User"),
        "urls": _urls(obj, base),
    }


def describe_sobject(obj: ObjectDef, base: str) -> dict[str, Any]:
    """The sObject Describe result for `obj`."""
    result = describe_global_entry(obj, base)
    result.update(
        {
            "fields": [describe_field(f) for f in obj.fields],
            "childRelationships": [],
            "recordTypeInfos": [],
            "supportedScopes": [{"label": "All", "name": "everything"}],
        }
    )
    return result


def describe_global(base: str, objects: Iterable[ObjectDef] = OBJECTS.values()) -> dict[str, Any]:
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [describe_global_entry(o, base) for o in sorted(objects, key=lambda o: o.name)],
    }
