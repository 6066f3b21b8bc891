"""A person's Task edit in Salesforce until Custompms holds it, at a steady rate.

The product runs with `sfpms up`'s defaults (Task through the emulator's Pub/Sub API, the
sinks' default batching), every part its own process on 127.0.0.1. A person creates N
Tasks and waits until each has its Project; then edits them one PATCH at a time, round
robin, at `--rate` edits a second for `--seconds`, each edit a new Subject. Latency of an
edit: the time the Custompms change feed gives the sync's write of that Subject to the
Project, minus the time just before the PATCH was sent (both emulators share this
machine's clock).

With `--profile DIR` the CDC, engine worker and sinks are recorded with py-spy during the
edits and a summary per process is added to the figures.

Usage: python -m benchmarks.edit_latency [--rate 100] [--seconds 20] [--n 300] [--profile DIR]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer

from benchmarks.e2e import Stack, alice_token, create_tasks, pms_records, stack
from benchmarks.harness import bench_env, report
from benchmarks.profiling import Profiles
from foundation.kafka import topics as t
from foundation.kafka.serde import TopicCodec, registry_client

SYNC_CLIENT = "sfpms"
PROFILED = ("cdc", "worker", "sinks")
TASK_CHANGES = t.changes_topic("salesforce", "task")


def wait_linked(running: Stack, prefix: str, n: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(pms_records(running, "projects", prefix, "name")) >= n:
            return
        time.sleep(0.5)
    raise RuntimeError(f"the {n} Tasks did not get their Projects in {timeout:.0f}s")


def task_ids(running: Stack, token: str, prefix: str) -> list[str]:
    ids: list[str] = []
    with running.sf() as sf:
        url = "/services/data/v60.0/query"
        soql = f"SELECT Id FROM Task WHERE Subject LIKE '{prefix}%' ORDER BY Id"  # noqa: S608
        params: dict[str, str] | None = {"q": soql}
        while url:
            body = sf.get(url, params=params, headers={"Authorization": f"Bearer {token}"}).json()
            ids += [r["Id"] for r in body["records"]]
            url, params = body.get("nextRecordsUrl") or "", None
    return ids


def edit(
    running: Stack, token: str, ids: list[str], rate: float, seconds: float
) -> dict[str, float]:
    """Edit at `rate` per second; the send time of each Subject."""
    sent: dict[str, float] = {}
    total = int(rate * seconds)
    started = time.monotonic()
    with running.sf() as sf:
        for k in range(total):
            subject = f"Lat {k}"
            sent[subject] = time.time()
            sf.patch(
                f"/services/data/v60.0/sobjects/Task/{ids[k % len(ids)]}",
                json={"Subject": subject},
                headers={"Authorization": f"Bearer {token}"},
            ).raise_for_status()
            pause = started + (k + 1) / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
    sent["_offered_per_s"] = total / (time.monotonic() - started)
    return sent


def written(running: Stack, subjects: set[str], timeout: float = 300) -> dict[str, float]:
    """When the sync wrote each Subject to a Project, from the Custompms change feed."""
    found: dict[str, float] = {}
    after = 0
    deadline = time.monotonic() + timeout
    with running.pms() as pms:
        while time.monotonic() < deadline and len(found) < len(subjects):
            body: dict[str, Any] = pms.get(
                "/changes", params={"after": after, "limit": 1000}
            ).json()
            changes = body["changes"]
            for change in changes:
                after = max(after, int(change["seq"]))
                name = (change.get("record") or {}).get("name")
                ours = change["resource"] == "projects" and change["actor"] == SYNC_CLIENT
                if ours and name in subjects and name not in found:
                    at = datetime.fromisoformat(change["at"].replace("Z", "+00:00"))
                    found[name] = at.timestamp()
            if not changes:
                time.sleep(0.5)
    return found


def _queries(stats: dict[str, int]) -> int:
    """SOQL calls so far: the capture's reads (and the rare polls of Division/Organization)."""
    return sum(n for k, n in stats.items() if k.startswith("GET /services/data/{version}/query"))


def capture_delays(running: Stack, subjects: set[str]) -> list[float]:
    """Per edit envelope: when the capture published it minus Salesforce's commit time."""
    settings = running.settings
    codec = TopicCodec(settings, registry_client(settings), TASK_CHANGES)
    consumer = Consumer(settings.consumer_config(settings.topic(f"bench-lat-{time.time_ns()}")))
    consumer.subscribe([settings.topic(TASK_CHANGES)])
    delays: list[float] = []
    quiet = time.monotonic()
    try:
        while time.monotonic() - quiet < 3.0:
            for msg in consumer.consume(1000, 0.5):
                if msg.error() is not None:
                    continue
                quiet = time.monotonic()
                envelope = codec.decode(msg.value() or b"")
                after, source = envelope.get("after") or {}, envelope["source"]
                if after.get("Subject") in subjects and source.get("commit_ts"):
                    delays.append((envelope["ts_ms"] - source["commit_ts"]).total_seconds())
    finally:
        consumer.close()
    return sorted(delays)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", default="noida-db", choices=["noida-db", "tansu"])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--profile", type=Path, default=None, help="py-spy the processes")
    args = parser.parse_args()
    profiles: dict[str, str] = {}
    with bench_env(args.engine, "latency") as bench, stack(bench, None) as running:
        token = alice_token(running)
        create_tasks(running, token, "Edited", args.n)
        wait_linked(running, "Edited", args.n)
        ids = task_ids(running, token, "Edited")
        time.sleep(5)  # the creates' writes and echoes are done
        spies = None
        if args.profile is not None:
            pids = {p.name: p.pid for p in running.processes if p.name in PROFILED and p.pid}
            spies = Profiles(args.profile, pids, args.seconds + 5)
        before = running.stats()[0]
        sent = edit(running, token, ids, args.rate, args.seconds)
        offered = sent.pop("_offered_per_s")
        landed = written(running, set(sent))
        reads = _queries(running.stats()[0]) - _queries(before)
        captured = capture_delays(running, set(sent))
        if spies is not None:
            spies.stop()
            profiles = spies.summary()
    delays = sorted(landed[s] - sent[s] for s in landed)
    q = statistics.quantiles(delays, n=100)
    report(
        f"edit_latency[{args.engine},rate={args.rate:.0f}/s,sfpms up defaults]",
        {
            "offered_per_s": offered,
            "edits": float(len(sent)),
            "written": float(len(delays)),
            "p50_s": q[49],
            "p95_s": q[94],
            "p99_s": q[98],
            "max_s": delays[-1],
            "capture_reads_per_1000_edits": 1000 * reads / len(sent),
            "capture_p50_s": statistics.median(captured) if captured else -1.0,
            "capture_p99_s": statistics.quantiles(captured, n=100)[98] if captured else -1.0,
            **{f"profile_{name}": text for name, text in profiles.items()},
        },
    )


if __name__ == "__main__":
    main()
