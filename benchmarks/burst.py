"""A burst of Salesforce Tasks in the stack's defaults: how long until Custompms has them.

The stack runs as `sfpms up` runs it (capture defaults: Task over the emulator's Pub/Sub
API), each part a real process on 127.0.0.1. A person creates `--n` Tasks at once (sObject
Collections, 200 a call); each becomes a Project and a Task in Custompms.

- `seconds_after_created`: from the last create call's answer until Custompms holds all 2N.
- `seconds_after_captured`: from the Kafka timestamp of the last Task change the capture
  published until then (the issue's figure: the engine and sinks, not the capture's delay).
Usage: python -m benchmarks.burst [--engine noida-db] [--n 4000]
"""

from __future__ import annotations

import argparse
import time

from benchmarks.e2e import alice_token, create_tasks, stack, wait_for, warm_up
from benchmarks.harness import bench_env, report
from foundation.kafka import topics as t
from foundation.kafka.tail import read_to_end
from foundation.settings import Settings


def last_capture_ms(settings: Settings, before_ms: int) -> tuple[int, int]:
    """(count, latest Kafka timestamp) of Task changes published since `before_ms`."""
    config = settings.consumer_config(settings.topic("bench-burst-reader"))
    topic = settings.topic(t.changes_topic("salesforce", "task"))
    stamps = [r.timestamp_ms for r in read_to_end(config, topic) if r.timestamp_ms >= before_ms]
    return len(stamps), max(stamps, default=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", default="noida-db", choices=["noida-db", "tansu"])
    parser.add_argument("--n", type=int, default=4000)
    args = parser.parse_args()
    with bench_env(args.engine, "burst") as bench, stack(bench, None) as running:
        token = alice_token(running)
        warm_up(running, token)
        before_ms = int(time.time() * 1000)
        create_tasks(running, token, "Burst", args.n)
        created = time.time()
        done_mono = wait_for(running, "Burst", args.n, timeout=900)
        done = time.time() - (time.monotonic() - done_mono)
        changes, captured_ms = last_capture_ms(running.settings, before_ms)
        report(
            f"burst[{args.engine},n={args.n}]",
            {
                "tasks": float(args.n),
                "custompms_records": float(2 * args.n),
                "seconds_after_created": done - created,
                "seconds_after_captured": done - captured_ms / 1000,
                "task_changes_captured": float(changes),
            },
        )


if __name__ == "__main__":
    main()
