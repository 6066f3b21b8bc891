"""Mapping files for the end-to-end tests: copies of the shipped file, edited as an operator
would (text edits only), and emulator configurations declaring the custom fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emulators.salesforce.custom_fields import parse_custom_fields
from streams.mapping.loader import default_mapping_path

REGION_ROW = """      - salesforce: Region__c
        custompms: custom_fields.region
        type: enum
        direction: both
        converter: enum
        options:
          to_custompms: {EMEA: emea, APAC: apac, Americas: americas}
          to_salesforce: {emea: EMEA, apac: APAC, americas: Americas}
        note: The sales region, a custom field on both sides.
"""

SF_REGION = [
    {
        "object": "Task",
        "name": "Region__c",
        "type": "picklist",
        "label": "Region",
        "values": ["EMEA", "APAC", "Americas"],
    }
]
PMS_REGION = [
    {
        "resource": "projects",
        "name": "region",
        "type": "enum",
        "values": ["emea", "apac", "americas"],
    }
]


def sf_custom_fields(declared: list[dict[str, Any]]) -> dict[str, Any]:
    """`running_salesforce` configuration declaring these custom fields."""
    return {"custom_fields": tuple(parse_custom_fields(declared))}


def shipped() -> str:
    return default_mapping_path().read_text(encoding="utf-8")


def add_rows(text: str, flow: str, rows: str) -> str:
    """`text` with `rows` added at the top of `flow`'s rows (a plain text edit)."""
    head = text.index(f"  - name: {flow}\n")
    at = text.index("    rows:\n", head) + len("    rows:\n")
    return text[:at] + rows + text[at:]


def replace_once(text: str, old: str, new: str, after: str = "") -> str:
    """`text` with the first `old` after `after` replaced by `new`."""
    start = text.index(after) if after else 0
    at = text.index(old, start)
    return text[:at] + new + text[at + len(old) :]


def write_copy(tmp_path: Path, text: str, name: str = "mapping.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path
