"""The pure core alone, no Kafka: mapping records per flow, and whole decisions.

- `map_<flow>`: sf_to_pms + pms_to_sf of one realistic record pair, per second;
- `decide_new_task`: on_sf_change for a Task nobody has seen (creates its Project);
- `decide_edit`: on_sf_change for an edit of a linked Task (writes both linked records),
  the hub decoded from its stored JSON first, as the engine does;
- `decide_echo`: the echo of the sync's own write: writes nothing.
Usage: python -m benchmarks.mapping_core [--seconds 2]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from benchmarks.harness import report
from foundation.wire import OpOutcome, WriteResult
from streams.core.fold import on_sf_change
from streams.core.hub import Hub
from streams.core.model import Change
from streams.core.results import on_result
from streams.core.rules import Rules
from streams.engine.processor import decode_hub, encode_hub
from streams.mapping.apply import pms_to_sf, sf_to_pms
from streams.mapping.flows import FLOWS
from streams.mapping.table import Flow

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SF: dict[str, dict[str, Any]] = {
    "division_customer": {"Id": "02d1", "Name": "EMEA", "IsActive": True},
    "organization_customer": {
        "Id": "00D1", "Name": "Acme", "Phone": "+47 1", "Fax": None, "PrimaryContact": "Ann",
        "Street": "1 Main", "City": "Oslo", "State": None, "PostalCode": "0150",
        "Country": "Norway", "DefaultLocaleSidKey": "nb_NO", "TimeZoneSidKey": "Europe/Oslo",
    },
    "task_project": {
        "Id": "00T1", "Subject": "Call", "Description": "d" * 200, "Status": "In Progress",
        "Priority": "High", "ActivityDate": date(2026, 12, 1), "OwnerId": "0051",
    },
}  # fmt: skip
SF["task_task"] = {**SF["task_project"], "CompletedDateTime": NOW}


def rate(fn: Callable[[], Any], seconds: float) -> float:
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(200):
            fn()
        count += 200
    return count / (time.perf_counter() - started)


def run(seconds: float) -> dict[str, float]:
    figures: dict[str, float] = {}
    for name, flow in FLOWS.items():
        record = SF[name]
        pms = sf_to_pms(flow, record, record_id="r")
        nested: dict[str, Any] = {}
        for path, value in pms.items():
            head, _, tail = path.partition(".")
            if tail:
                nested.setdefault(head, {})[tail] = value
            else:
                nested[head] = value

        def both(
            flow: Flow = flow, record: dict[str, Any] = record, nested: dict[str, Any] = nested
        ) -> None:
            sf_to_pms(flow, record, record_id="r")
            pms_to_sf(flow, nested, record_id="r")

        figures[f"map_{name}_per_s"] = rate(both, seconds)
    rules = Rules(FLOWS)
    task = SF["task_project"]
    first = Change("salesforce", "Task", "00T1", "c", task, 1000, "person")
    figures["decide_new_task_per_s"] = rate(lambda: on_sf_change(None, first, rules, 1), seconds)
    hub: Hub | None
    hub, _ = on_sf_change(None, first, rules, 1)
    for flow_name, target in (("task_project", "prj_1"), ("task_task", "tsk_1")):
        outcome = OpOutcome(flow_name, "x", "create", "ok", target, created=True)
        hub, _ = on_result(hub, WriteResult("c", "00T1", "custompms", (outcome,), 2), rules, 2)
    edit = Change("salesforce", "Task", "00T1", "u", {**task, "Subject": "Edited"}, 2000, "person")

    assert hub is not None
    stored = encode_hub(hub)  # as the link table holds it

    def edit_once() -> None:
        on_sf_change(decode_hub(stored), edit, rules, 3)

    figures["decide_edit_per_s"] = rate(edit_once, seconds)
    edited, _ = on_sf_change(decode_hub(stored), edit, rules, 3)
    edited_stored = encode_hub(edited)
    echo = Change("salesforce", "Task", "00T1", "u", {**task, "Subject": "Edited"}, 3000, "sync")
    figures["decide_echo_per_s"] = rate(
        lambda: on_sf_change(decode_hub(edited_stored), echo, rules, 4), seconds
    )
    figures["hub_decode_encode_per_s"] = rate(lambda: encode_hub(decode_hub(stored)), seconds)
    figures["hub_bytes"] = float(len(edited_stored))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    report("mapping_core", run(args.seconds))


if __name__ == "__main__":
    main()
