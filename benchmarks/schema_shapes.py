"""Two ways for change envelopes to carry custom fields, measured (docs/mapping.md).

- `typed`: what sfpms does. The mapping adds each custom field to the entity schema as a
  typed, nullable Avro field (`Region__c: ["null", "string"]`, dates as `date`, numbers as
  `double`), generated from the mapping file (streams/mapping/avro.py);
- `generic`: one `custom: map<union<null, boolean, long, double, string>>` field on every
  entity schema that holds whatever custom values a record has, the schema never changing.

For a Salesforce Task envelope with CUSTOM custom fields (text, picklist, number, date,
checkbox in turn) it reports encode + decode per second and bytes per envelope of each
shape. The typed shape also keeps dates and numbers typed and lets the registry's
compatibility check refuse a type change; the generic one cannot.
Usage: python -m benchmarks.schema_shapes [--seconds 2] [--custom 5]
"""

from __future__ import annotations

import argparse
import copy
import io
import time
from datetime import UTC, date, datetime
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer

from benchmarks.harness import report
from foundation.kafka.schemas import base_schema_dict

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
KINDS: tuple[tuple[Any, Any], ...] = (
    ("string", "Northern region"),
    ("string", "EMEA"),
    ("double", 125000.5),
    ({"type": "int", "logicalType": "date"}, date(2026, 12, 1)),
    ("boolean", True),
)


def _task(extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "Id": "00T000000000001AAA",
        "Subject": "Call Acme about renewal",
        "Status": "In Progress",
        "Priority": "High",
        "ActivityDate": date(2026, 12, 1),
        "Description": "d" * 120,
        "OwnerId": "005000000000001AAA",
        "SystemModstamp": NOW,
        "CreatedDate": NOW,
        "LastModifiedById": "005000000000002AAA",
        **extra,
    }


def _envelope(after: dict[str, Any]) -> dict[str, Any]:
    return {
        "op": "u",
        "before": None,
        "after": after,
        "source": {"system": "salesforce", "entity": "Task", "id": after["Id"], "modstamp": NOW},
        "ts_ms": NOW,
    }


def shapes(custom: int) -> dict[str, tuple[Any, dict[str, Any]]]:
    """shape -> (parsed schema, a sample envelope)."""
    base = base_schema_dict("sfpms.salesforce.TaskChange")
    typed, generic = copy.deepcopy(base), copy.deepcopy(base)
    fields = [(f"Custom_{i}__c", *KINDS[i % len(KINDS)]) for i in range(custom)]
    task_typed = typed["fields"][1]["type"][1]
    task_typed["fields"] += [
        {"name": name, "type": ["null", kind], "default": None} for name, kind, _ in fields
    ]
    union = ["null", "boolean", "long", "double", "string"]
    task_generic = generic["fields"][1]["type"][1]
    task_generic["fields"].append(
        {"name": "custom", "type": {"type": "map", "values": union}, "default": {}}
    )

    def generic_value(value: Any) -> Any:  # dates travel as text in the generic shape
        return value.isoformat() if isinstance(value, date) else value

    typed_sample = _envelope(_task({name: value for name, _, value in fields}))
    generic_sample = _envelope(
        _task({"custom": {name: generic_value(value) for name, _, value in fields}})
    )
    return {
        "typed": (parse_schema(typed), typed_sample),
        "generic": (parse_schema(generic), generic_sample),
    }


def run(seconds: float, custom: int) -> dict[str, float]:
    """Bytes per envelope, and round trips per second measured in alternating rounds of 200
    (so both shapes see the same machine load)."""
    figures: dict[str, float] = {"custom_fields": float(custom)}
    measured = shapes(custom)
    spent = dict.fromkeys(measured, 0.0)
    done = dict.fromkeys(measured, 0)
    for name, (schema, sample) in measured.items():
        buffer = io.BytesIO()
        schemaless_writer(buffer, schema, sample)
        figures[f"{name}_bytes"] = float(len(buffer.getvalue()))
    deadline = time.perf_counter() + seconds * len(measured)
    while time.perf_counter() < deadline:
        for name, (schema, sample) in measured.items():
            started = time.perf_counter()
            for _ in range(200):
                out = io.BytesIO()
                schemaless_writer(out, schema, sample)
                out.seek(0)
                schemaless_reader(out, schema)
            spent[name] += time.perf_counter() - started
            done[name] += 200
    for name in measured:
        figures[f"{name}_roundtrips_per_s"] = done[name] / spent[name]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--custom", type=int, default=5)
    args = parser.parse_args()
    report("schema_shapes", run(args.seconds, args.custom))


if __name__ == "__main__":
    main()
