"""Engine worker memory with 1,000,000 links in its table.

Writes 500,000 Salesforce Task hubs, each with two links (a Project and a Task: 1,000,000
links), straight into the link table's changelog, starts a real `sfpms worker`, waits until
it has recovered the table and processes a change, then reads the worker's resident set
size (VmRSS) and its peak (VmHWM). Runs on Tansu (noida-db cannot consume topics above
~100 MB; this changelog is ~800 MB). Usage:
python -m benchmarks.worker_rss [--hubs 500000] [--store rocksdb|memory]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from confluent_kafka import Producer

from benchmarks.harness import (
    Counter,
    bench_env,
    now,
    produce_envelopes,
    report,
    sf_id,
    task_envelope,
)
from foundation.kafka import topics as t
from streams.core.hub import SF, Hub, PmsLink, Winner
from streams.core.values import Scalar
from streams.engine.processor import encode_hub
from tests.support.stack import EngineWorker


def hub(i: int) -> Hub:
    """A realistic linked Task hub (two links, every field known on every side)."""
    record_id = sf_id(i)
    known: dict[str, Scalar] = {
        "Subject": f"Follow up with customer {i}",
        "Description": "Call back about the renewal and send the signed order form.",
        "Status": "In Progress",
        "Priority": "Normal",
        "ActivityDate": "2026-12-01",
        "OwnerId": "005000000000001AAA",
        "CompletedDateTime": None,
    }
    ts = 1_795_600_000_000 + i
    project: dict[str, Scalar] = {
        "name": known["Subject"], "description": known["Description"], "status": "active",
        "priority": "medium", "due_date": "2026-12-01", "owner": known["OwnerId"],
    }  # fmt: skip
    task: dict[str, Scalar] = {
        "title": known["Subject"], "description": known["Description"], "status": "in_progress",
        "priority": "medium", "due_date": "2026-12-01", "assignee": known["OwnerId"],
        "completed_at": None, "project_id": f"prj_{i:06d}",
    }  # fmt: skip
    return Hub(
        sf_id=record_id,
        sf_object="Task",
        sf_known=known,
        sf_modstamp=ts,
        winners={name: Winner(SF, ts, value) for name, value in known.items()},
        links={
            "task_project": PmsLink("task_project", "linked", f"prj_{i:06d}", project, 2, ts, ts),
            "task_task": PmsLink("task_task", "linked", f"tsk_{i:06d}", task, 2, ts, ts),
        },
    )


def vm(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = float(value.split()[0]) / 1024
    return fields


def run(hubs: int, store: str) -> dict[str, float]:
    with bench_env("tansu", f"rss-{store}") as bench:
        settings = bench.settings.model_copy(update={"engine_store": store})
        producer = Producer(settings.producer_config(**{"batch.num.messages": 1}))
        changelog = settings.topic(f"{t.ENGINE_APP}-hubs-changelog")
        started = time.monotonic()
        size = 0
        for i in range(hubs):
            value = encode_hub(hub(i))
            size += len(value)
            while True:
                try:
                    producer.produce(changelog, key=sf_id(i).encode(), value=value)
                    break
                except BufferError:
                    producer.poll(0.05)
        producer.flush(600)
        written_s = time.monotonic() - started
        worker = EngineWorker(settings, bench.workdir, "rss-worker", check_schemas=False)
        worker.start(timeout=600)
        counter = Counter(settings, t.writes_topic("custompms"))
        recovery_started = time.monotonic()
        edit = task_envelope(sf_id(7), "Edited after recovery", now())
        edit["op"] = "u"
        produce_envelopes(settings, t.changes_topic("salesforce", "task"), [(sf_id(7), edit)])
        if counter.wait(1, timeout=900) is None:
            raise RuntimeError(f"no output after recovery: {worker.log_tail()}")
        recovered_s = time.monotonic() - recovery_started
        counter.close()
        assert worker.process.pid is not None
        memory = vm(worker.process.pid)
        worker.stop()
        return {
            "hubs": float(hubs),
            "links": float(2 * hubs),
            "changelog_mb": size / 1024**2,
            "changelog_write_s": written_s,
            "recovered_and_processing_s": recovered_s,
            "rss_mb": memory["VmRSS"],
            "peak_rss_mb": memory["VmHWM"],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hubs", type=int, default=500_000)
    parser.add_argument("--store", default="rocksdb", choices=["rocksdb", "memory"])
    args = parser.parse_args()
    report(f"worker_rss[{args.store}]", run(args.hubs, args.store))


if __name__ == "__main__":
    main()
