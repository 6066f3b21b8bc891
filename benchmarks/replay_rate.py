"""Replay dry-run rate: 100,000 historic Salesforce Task changes through the current mapping.

The link table holds 20,000 linked Task hubs (Project and Task each); the change topic
holds five historic changes per hub (100,000), all no newer than the link table. A dry run
of task_project reads them, reconciles every record under the mapping and writes nothing;
it must report no change. Then one mapping row changes (Normal priority -> low) and the dry
run reports exactly the affected records. Usage: python -m benchmarks.replay_rate
[--engine noida-db] [--hubs 20000] [--per-hub 5]
"""

from __future__ import annotations

import argparse
import io
import time
from datetime import UTC, datetime

from confluent_kafka import Producer

from benchmarks.harness import bench_env, produce_envelopes, report, sf_id, task_envelope
from benchmarks.worker_rss import hub
from foundation.kafka import topics as t
from streams.core.rules import Rules
from streams.engine.processor import encode_hub
from streams.engine.replay import Replay, ReplayRange
from streams.mapping.flows import FLOWS
from tests.support.flows import normal_becomes_low


def run(engine: str, hubs: int, per_hub: int) -> dict[str, float]:
    with bench_env(engine, "replay") as bench:  # type: ignore[arg-type]
        settings = bench.settings
        producer = Producer(settings.producer_config())
        changelog = settings.topic(f"{t.ENGINE_APP}-hubs-changelog")
        for i in range(hubs):
            producer.produce(changelog, key=sf_id(i).encode(), value=encode_hub(hub(i)))
            producer.poll(0)
        producer.flush(300)
        records = []
        for round_ in range(per_hub):
            for i in range(hubs):
                latest = hub(i).sf_modstamp or 0
                stamp = datetime.fromtimestamp((latest - (per_hub - round_) * 1000) / 1000, UTC)
                envelope = task_envelope(sf_id(i), f"Follow up with customer {i}", stamp)
                envelope["op"] = "u"
                records.append((sf_id(i), envelope))
        produce_envelopes(settings, t.changes_topic("salesforce", "task"), records)
        total = len(records)

        started = time.monotonic()
        same = Replay(settings, FLOWS["task_project"], Rules(FLOWS)).run(
            ReplayRange(from_beginning=True), dry_run=True, diff_out=io.StringIO()
        )
        unchanged_s = time.monotonic() - started
        flow = normal_becomes_low()
        started = time.monotonic()
        diff = Replay(settings, flow, Rules({**FLOWS, flow.name: flow})).run(
            ReplayRange(from_beginning=True), dry_run=True, diff_out=io.StringIO()
        )
        changed_s = time.monotonic() - started
        return {
            "changes": float(total),
            "unchanged_changes_per_s": same.changes / unchanged_s,
            "unchanged_records_written": float(len(same.records)),
            "changed_mapping_changes_per_s": diff.changes / changed_s,
            "changed_mapping_records": float(len(diff.records)),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", default="noida-db", choices=["noida-db", "tansu"])
    parser.add_argument("--hubs", type=int, default=20000)
    parser.add_argument("--per-hub", type=int, default=5)
    args = parser.parse_args()
    report(f"replay_dry_run[{args.engine}]", run(args.engine, args.hubs, args.per_hub))


if __name__ == "__main__":
    main()
