"""Salesforce calls per 1,000 records the sync writes there: creates (upserts) and updates.

The product runs as in `benchmarks.e2e` (every part its own process, Task captured through
the emulator's Pub/Sub API). A person creates N Projects in Custompms (its batch API,
100 a call): the sync creates N Salesforce Tasks (upserts by Custompms_Id__c). Then the
person edits the N Projects: the sync updates the N Tasks. Per phase, from the emulator's
request counts: the sink's calls per 1,000 records (the writes, the conflict check's
retrieve, the look for deleted twins), the capture's (reading back the sync's own changes,
from the CDC's /metrics: state reads, polls, reconciliations) and both together; the
benchmark's own COUNT() queries are left out.

Two ways records arrive: `live`, at the rate the engine produces them (the Salesforce sink
writes what one linger, 1 s by default, gathered: partial 200-record chunks cost extra
calls at low rates), and `backlog`, where the sinks are stopped while the engine produces
all N commands and then started (what the sink does with full batches, e.g. after an
outage or a bulk change).

Usage: python -m benchmarks.sf_writes [--n 3000] [--mode both|live|backlog] [--engine E]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.e2e import Stack, _process, stack
from benchmarks.harness import bench_env, end_offsets, report
from foundation.kafka import topics as t
from sfpms.embedded.broker import free_port

WRITES = t.writes_topic("salesforce")  # one command per Project (its Task upsert)
METRICS = [""]  # the CDC's /metrics URL


def sf_calls(running: Stack) -> dict[str, int]:
    stats, _ = running.stats()
    return {k: n for k, n in stats.items() if "/services/data" in k}


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: n - before.get(k, 0) for k, n in after.items() if n - before.get(k, 0)}


def capture_calls(url: str) -> float:
    """Calls the CDC has made so far: reads of records named by change events, polls, and
    reconciliations (one call each at least), from its /metrics."""
    text = httpx.get(url, timeout=10).text
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "sfpms_cdc_state_reads_total":
                total += sample.value
            elif sample.name == "sfpms_cdc_poll_seconds_count":
                total += sample.value if labels.get("source") == "salesforce" else 0.0
            elif sample.name == "sfpms_cdc_reconciliations_total":
                # a sweep is one of the polls already counted
                total += sample.value if labels.get("reason") in ("resume", "overflow") else 0.0
    return total


OWN_CALLS = [0]  # this benchmark's COUNT() queries (they count as API calls too)


def count_tasks(running: Stack, where: str) -> int:
    OWN_CALLS[0] += 1
    with running.sf() as sf:
        token = _token(running)
        soql = f"SELECT COUNT() FROM Task WHERE {where}"  # noqa: S608 - bench-built
        body = sf.get(
            "/services/data/v60.0/query",
            params={"q": soql},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
    return int(body["totalSize"])


def _token(running: Stack) -> str:
    from benchmarks.e2e import alice_token

    return alice_token(running)


def wait_count(running: Stack, where: str, n: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if count_tasks(running, where) >= n:
            return time.monotonic()
        time.sleep(1.0)
    raise RuntimeError(f"only {count_tasks(running, where)} of {n} Tasks with {where}")


def settle(running: Stack, quiet: float = 5.0, timeout: float = 300.0) -> None:
    """Wait until no Salesforce call happens for `quiet` seconds (echoes read back)."""
    last, since = sf_calls(running), time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() - since < quiet and time.monotonic() < deadline:
        time.sleep(0.5)
        now = sf_calls(running)
        if now != last:
            last, since = now, time.monotonic()


def person_changes(running: Stack, n: int, ops: str, label: str) -> None:
    with running.pms() as pms:
        if ops == "create":
            for start in range(0, n, 100):
                batch: list[dict[str, Any]] = [
                    {"op": "create", "data": {"name": f"{label} {i}", "priority": "low"}}
                    for i in range(start, min(start + 100, n))
                ]
                pms.post("/projects/batch", json={"operations": batch}).raise_for_status()
        else:
            projects = [p for p in _projects(running) if str(p["name"]).startswith(f"{label} ")]
            for start in range(0, len(projects), 100):
                batch = [
                    {"op": "update", "id": p["id"], "data": {"priority": "high"}}
                    for p in projects[start : start + 100]
                ]
                pms.post("/projects/batch", json={"operations": batch}).raise_for_status()


def phase(running: Stack, n: int, ops: str, label: str, backlog: bool) -> dict[str, Any]:
    where = f"Subject LIKE '{label} %'" + (" AND Priority = 'High'" if ops == "update" else "")
    if backlog:
        sinks = next(p for p in running.processes if p.name == "sinks")
        sinks.stop(grace=15)
        queued = end_offsets(running.settings, WRITES)  # end offsets: right on noida-db
        person_changes(running, n, ops, label)
        deadline = time.monotonic() + 900
        while end_offsets(running.settings, WRITES) < queued + n:
            if time.monotonic() > deadline:
                raise RuntimeError("the engine did not produce the commands")
            time.sleep(0.5)
        time.sleep(2)
    before, own, captured = sf_calls(running), OWN_CALLS[0], capture_calls(METRICS[0])
    started = time.monotonic()
    if backlog:
        logs = sinks.log_path.parent if sinks.log_path else running.cert.parent
        running.processes[running.processes.index(sinks)] = _process(
            "sinks", ["sink", "run"], running.settings, logs
        )
    else:
        person_changes(running, n, ops, label)
    done = wait_count(running, where, n, timeout=1800)
    settle(running)
    spent = delta(sf_calls(running), before)
    capture = capture_calls(METRICS[0]) - captured
    mine = OWN_CALLS[0] - own
    sink = sum(spent.values()) - capture - mine
    mode = "backlog" if backlog else "live"
    return {
        f"{ops}_{mode}_seconds": done - started,
        f"{ops}_{mode}_sink_calls_per_1000": 1000 * sink / n,
        f"{ops}_{mode}_capture_calls_per_1000": 1000 * capture / n,
        f"{ops}_{mode}_all_calls_per_1000": 1000 * (sink + capture) / n,
        f"{ops}_{mode}_calls": "; ".join(f"{k.split('/', 4)[-1]} x{v}" for k, v in spent.items()),
    }


def _projects(running: Stack) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    with running.pms() as pms:
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            page = pms.get("/projects", params=params).json()
            found += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", default="noida-db", choices=["noida-db", "tansu"])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--mode", choices=["both", "live", "backlog"], default="both")
    args = parser.parse_args()
    modes = ["live", "backlog"] if args.mode == "both" else [args.mode]
    figures: dict[str, Any] = {"records": float(args.n)}
    port = free_port()
    METRICS[0] = f"http://127.0.0.1:{port}/metrics"
    with (
        bench_env(args.engine, "sfwrites") as bench,
        stack(bench, 0.2, idle_poll_interval=180.0, cdc_metrics_port=port) as running,
    ):
        for mode in modes:
            label = f"Writes{mode.title()}"
            for ops in ("create", "update"):
                figures.update(phase(running, args.n, ops, label, backlog=mode == "backlog"))
    figures["target_per_1000"] = 6.0
    report(f"sf_writes[{args.engine},n={args.n}]", figures)


if __name__ == "__main__":
    main()
