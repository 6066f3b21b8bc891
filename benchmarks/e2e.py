"""End to end: a change made in one system until the other system holds the write.

Everything runs as it does in `make run`, each as a real process on 127.0.0.1: the broker,
both emulators (in memory, unseeded), CDC, one engine worker and the sink workers.

- `throughput`: N Tasks created by a person in Salesforce (sObject Collections, 200 a call);
  each becomes a Project and a Task in Custompms. Rate = N / seconds until all 2N exist.
- `latency`: Tasks created at a steady rate for a while; per record, Custompms Project
  created_at minus Salesforce CreatedDate (both emulators share this machine's clock).
- `engine_events_per_change`: records the engine worker consumed (its sfpms_engine_events)
  during the throughput run, per Task created: the change plus the results and link events
  it causes (4 for a Salesforce Task create, by the design in docs/architecture.md).
- `api`: calls per 1,000 records written: Custompms calls for the Salesforce-to-Custompms
  run, Salesforce calls for updates going the other way (N linked Projects edited).
Usage: python -m benchmarks.e2e [--engine noida-db] [--n 3000] [--latency-ms 0]
[--rate 1000 --seconds 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx

from benchmarks import baseline
from benchmarks.harness import Bench, bench_env, report
from benchmarks.profiling import Profiles
from connectors.salesforce.formats import parse_datetime
from emulators.salesforce.config import ALICE_USER, CLIENT_ID, CLIENT_SECRET
from foundation.settings import Settings, settings_env
from sfpms.embedded.broker import free_port, port_open
from sfpms.embedded.process import ManagedProcess, wait_until

PERSON_TOKEN = "bench-person-token"
PROFILED = ("cdc", "worker", "sinks")
T = TypeVar("T")


@dataclass
class Stack:
    settings: Settings
    sf_url: str
    pms_url: str
    cert: Path
    processes: list[ManagedProcess]

    def sf(self) -> httpx.Client:
        return httpx.Client(base_url=self.sf_url, verify=str(self.cert), timeout=60)

    def pms(self, token: str = PERSON_TOKEN) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.pms_url}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )

    def stats(self) -> tuple[dict[str, int], dict[str, int]]:
        with self.sf() as sf, httpx.Client(timeout=30) as pms:
            a = sf.get("/__emulator__/stats").json()["requests"]
            b = pms.get(f"{self.pms_url}/__emulator__/stats").json()["requests"]
        return a, b

    def engine_events(self) -> dict[str, float]:
        """Records the engine worker consumed so far, by kind, from its /metrics."""
        url = f"http://127.0.0.1:{self.settings.worker_web_port}/metrics"
        with httpx.Client(timeout=30) as client:
            text = client.get(url).text
        counts: dict[str, float] = {}
        for line in text.splitlines():
            if line.startswith("sfpms_engine_events_total{"):
                labels, value = line.rsplit(" ", 1)
                kind = labels.split('kind="', 1)[1].split('"', 1)[0]
                counts[kind] = counts.get(kind, 0.0) + float(value)
        return counts

    def latency(self, ms: float) -> None:
        with self.sf() as sf, httpx.Client(timeout=30) as pms:
            body = {"latency_ms": ms}
            sf.post("/__emulator__/faults", json={**body, "path_prefixes": ["/services/data"]})
            pms.post(
                f"{self.pms_url}/__emulator__/faults", json={**body, "path_prefixes": ["/api"]}
            )


def _process(name: str, args: list[str], settings: Settings, logs: Path) -> ManagedProcess:
    process = ManagedProcess(
        name=name,
        argv=[sys.executable, "-m", "sfpms", *args],
        log_path=logs / f"{name}.log",
        env={**os.environ, **settings_env(settings)},
    )
    process.start()
    return process


@contextmanager
def stack(
    bench: Bench,
    poll_interval: float | None,
    cdc_args: Sequence[str] = (),
    idle_poll_interval: float = 1.0,
    cdc_metrics_port: int | None = None,
) -> Iterator[Stack]:
    """The product as `sfpms up` runs it (Task through the emulator's Pub/Sub API); a
    `poll_interval` of None keeps the capture's defaults."""
    logs = bench.workdir / "logs"
    sf_port, pms_port, pubsub_port = free_port(), free_port(), free_port()
    sf_dir = bench.workdir / "salesforce"
    settings = bench.settings.model_copy(
        update={
            "salesforce_url": f"https://127.0.0.1:{sf_port}",
            "salesforce_ca_bundle": sf_dir / "cert.pem",
            "salesforce_pubsub_endpoint": f"127.0.0.1:{pubsub_port}",
            "custompms_url": f"http://127.0.0.1:{pms_port}",
            "worker_web_port": free_port(),
        }
    )
    processes: list[ManagedProcess] = []
    try:
        sf_args = ["emulate", "salesforce", "--port", str(sf_port), "--memory", "--no-seed"]
        sf_args += ["--data-dir", str(sf_dir), "--api-limit", "100000000"]
        sf_args += ["--pubsub-port", str(pubsub_port)]
        processes.append(_process("salesforce", sf_args, settings, logs))
        pms_args = ["emulate", "custompms", "--port", str(pms_port), "--memory", "--no-seed"]
        pms_args += ["--token", f"{PERSON_TOKEN}=bench-person"]
        processes.append(_process("custompms", pms_args, settings, logs))
        wait_until(
            lambda: port_open(sf_port) and port_open(pms_port) and port_open(pubsub_port),
            timeout=60,
            what="emulators",
        )
        cdc = ["cdc", "run", *cdc_args]
        if cdc_metrics_port is not None:
            cdc += ["--metrics-port", str(cdc_metrics_port)]
        if poll_interval is not None:
            cdc += ["--poll-interval", str(poll_interval)]
            cdc += ["--idle-poll-interval", str(idle_poll_interval)]
        processes.append(_process("cdc", cdc, settings, logs))
        worker_args = ["worker", "--instance-id", "bench-worker"]
        processes.append(_process("worker", worker_args, settings, logs))
        processes.append(_process("sinks", ["sink", "run"], settings, logs))
        # The worker's web server answers once it has joined its group and recovered its
        # tables: that, not a fixed pause, is when the stack is ready to be measured.
        wait_until(lambda: _answers(settings.worker_web_port), timeout=180, what="engine worker")
        time.sleep(2)
        yield Stack(settings, settings.salesforce_base_url(), settings.custompms_base_url(),
                    sf_dir / "cert.pem", processes)  # fmt: skip
    finally:
        for process in reversed(processes):
            process.stop(grace=15)


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def warm_up(stack: Stack, token: str) -> None:
    """One Task synced before measuring: the capture's first subscription answers and runs
    its one-time resume reconciliation (which re-reads what changed since its first load)
    here, not inside the measured run."""
    create_tasks(stack, token, "Warmup", 1)
    wait_for(stack, "Warmup", 1, timeout=300)


def alice_token(stack: Stack) -> str:
    with stack.sf() as sf:
        body = {
            "grant_type": "password",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "username": ALICE_USER[0],
            "password": ALICE_USER[1],
        }
        return str(sf.post("/services/oauth2/token", data=body).json()["access_token"])


def create_tasks(stack: Stack, token: str, prefix: str, count: int) -> None:
    with stack.sf() as sf:
        for start in range(0, count, 200):
            records = [
                {"attributes": {"type": "Task"}, "Subject": f"{prefix} {i}", "Priority": "Normal"}
                for i in range(start, min(start + 200, count))
            ]
            response = sf.post(
                "/services/data/v60.0/composite/sobjects",
                json={"allOrNone": True, "records": records},
                headers={"Authorization": f"Bearer {token}"},
            )
            response.raise_for_status()


def pms_records(stack: Stack, resource: str, prefix: str, field: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    with stack.pms() as pms:
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 1000}
            if cursor:
                params["cursor"] = cursor
            page = pms.get(f"/{resource}", params=params).json()
            found += [r for r in page["items"] if str(r.get(field, "")).startswith(prefix)]
            cursor = page.get("next_cursor")
            if not cursor:
                return found


def wait_for(stack: Stack, prefix: str, count: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        projects = len(pms_records(stack, "projects", prefix, "name"))
        tasks = len(pms_records(stack, "tasks", prefix, "title"))
        if projects >= count and tasks >= count:
            return time.monotonic()
        time.sleep(0.5)
    raise RuntimeError(f"{prefix}: not synced within {timeout:.0f}s")


def writes(stats: dict[str, int], before: dict[str, int]) -> int:
    """Calls the sinks make for their writes: the writes themselves and the Salesforce
    sink's conflict check (a Collections retrieve); not logins, not CDC polls."""
    return sum(
        n - before.get(k, 0)
        for k, n in stats.items()
        if (k.split()[0] in ("POST", "PATCH", "DELETE") and "oauth2" not in k)
        or (k.startswith("GET ") and "/composite/sobjects/" in k)  # the GET retrieve form
    )


def throughput(stack: Stack, token: str, n: int) -> dict[str, float]:
    _sf_before, pms_before = stack.stats()
    events_before = stack.engine_events()
    started = time.monotonic()
    create_tasks(stack, token, "Throughput", n)
    done = wait_for(stack, "Throughput", n, timeout=1800)
    _sf_after, pms_after = stack.stats()
    pms_calls = writes(pms_after, pms_before)
    # The results and link events of the last writes may still be on their way: wait until
    # the engine's count stops moving before dividing.
    by_kind = _settled(stack.engine_events)
    events = sum(by_kind.values())
    per_kind = {
        f"engine_events_per_change_{kind}": (count - events_before.get(kind, 0.0)) / n
        for kind, count in sorted(by_kind.items())
    }
    return {
        "engine_events_per_change": (events - sum(events_before.values())) / n,
        **per_kind,
        "changes": float(n),
        "seconds": done - started,
        "changes_per_s": n / (done - started),
        "custompms_records_written": float(2 * n),
        "custompms_calls_per_1000_writes": 1000 * pms_calls / (2 * n),
    }


def _settled(read: Callable[[], T], quiet_s: float = 3.0, timeout: float = 120) -> T:
    """`read()` once it has not changed for `quiet_s` (or at `timeout`)."""
    deadline = time.monotonic() + timeout
    value, since = read(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = read()
        if now != value:
            value, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
    return value


def salesforce_calls_per_1000(stack: Stack, n: int) -> dict[str, float]:
    """Edit n linked Projects in Custompms; count Salesforce write calls for the updates."""
    projects = pms_records(stack, "projects", "Throughput", "name")[:n]
    sf_before, _ = stack.stats()
    events_before = sum(stack.engine_events().values())
    with stack.pms() as pms:
        for start in range(0, len(projects), 100):
            ops = [
                {"op": "update", "id": p["id"], "data": {"priority": "high"}}
                for p in projects[start : start + 100]
            ]
            pms.post("/projects/batch", json={"operations": ops}).raise_for_status()
    deadline = time.monotonic() + 900
    expected = len(projects)
    while time.monotonic() < deadline:
        sf_now, _ = stack.stats()
        updated = sum(v - sf_before.get(k, 0) for k, v in sf_now.items() if k.startswith("PATCH"))
        if updated and _count_high(stack) >= expected:
            break
        time.sleep(1)
    sf_after, _ = stack.stats()
    calls = writes(sf_after, sf_before)
    events = sum(_settled(stack.engine_events).values()) - events_before
    return {"engine_events_per_edit": events / expected,
            "salesforce_records_written": float(expected),
            "salesforce_calls_per_1000_writes": 1000 * calls / expected}  # fmt: skip


def _count_high(stack: Stack) -> int:
    token = alice_token(stack)
    with stack.sf() as sf:
        soql = "SELECT COUNT() FROM Task WHERE Priority = 'High' AND Subject LIKE 'Throughput%'"
        body = sf.get(
            "/services/data/v60.0/query",
            params={"q": soql},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
    return int(body["totalSize"])


def latency(stack: Stack, token: str, rate: float, seconds: float) -> dict[str, float]:
    """Tasks created at `rate` per second for `seconds`; created_at latency percentiles."""
    per_call = max(1, min(200, int(rate / 5)))
    total = int(rate * seconds)
    made = 0
    started = time.monotonic()
    with stack.sf() as sf:
        while made < total:
            records = [
                {"attributes": {"type": "Task"}, "Subject": f"Latency {made + i}"}
                for i in range(min(per_call, total - made))
            ]
            sf.post(
                "/services/data/v60.0/composite/sobjects",
                json={"allOrNone": True, "records": records},
                headers={"Authorization": f"Bearer {token}"},
            ).raise_for_status()
            made += len(records)
            pause = started + made / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        offered = made / (time.monotonic() - started)
    wait_for(stack, "Latency", total, timeout=1800)
    created = _sf_created(stack, token)
    delays = []
    for project in pms_records(stack, "projects", "Latency", "name"):
        source = created.get(project["name"])
        if source is not None:
            target = datetime.fromisoformat(project["created_at"].replace("Z", "+00:00"))
            delays.append((target - source).total_seconds())
    delays.sort()
    q = statistics.quantiles(delays, n=100)
    return {"offered_per_s": offered, "records": float(len(delays)),
            "p50_s": q[49], "p95_s": q[94], "p99_s": q[98], "max_s": delays[-1]}  # fmt: skip


def _sf_created(stack: Stack, token: str) -> dict[str, datetime]:
    created: dict[str, datetime] = {}
    with stack.sf() as sf:
        url = "/services/data/v60.0/query"
        params: dict[str, str] | None = {
            "q": "SELECT Subject, CreatedDate FROM Task WHERE Subject LIKE 'Latency%'"
        }
        while url:
            body = sf.get(url, params=params, headers={"Authorization": f"Bearer {token}"}).json()
            for record in body["records"]:
                created[record["Subject"]] = parse_datetime(record["CreatedDate"])
            url, params = body.get("nextRecordsUrl") or "", None
    return created


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", default="noida-db", choices=["noida-db", "tansu"])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--rate", type=float, default=0.0, help="also run the latency test")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--poll-interval", type=float, default=0.2)
    parser.add_argument(
        "--unconditional",
        action="store_true",
        help="Salesforce updates without the conflict check (one call fewer per batch)",
    )
    parser.add_argument("--profile", type=Path, default=None, help="py-spy the processes")
    parser.add_argument("--profile-seconds", type=float, default=15.0)
    parser.add_argument(
        "--hand-loop-n",
        type=int,
        default=20000,
        help="records for the hand-written loop measured after the run (0: skip it)",
    )
    args = parser.parse_args()
    with bench_env(args.engine, "e2e") as bench:
        if args.unconditional:
            bench.settings = bench.settings.model_copy(
                update={"salesforce_conditional_updates": False}
            )
        with stack(bench, args.poll_interval) as running:
            figures, label = _run(args, running)
    if args.hand_loop_n:
        # The same machine and broker, right after (the stack is stopped): the ratio the
        # issue asks for, printed next to the rate it divides.
        hand = baseline.run(args.engine, args.hand_loop_n)["hand_loop_per_s"]
        figures["hand_loop_per_s"] = hand
        figures["ratio_to_hand_loop"] = figures["changes_per_s"] / hand
    report(label, figures)
    if args.rate:
        # A stack of its own: the throughput run's backlog must not delay these records.
        with (
            bench_env(args.engine, "e2e-latency") as bench,
            stack(bench, args.poll_interval) as running,
        ):
            token = alice_token(running)
            warm_up(running, token)
            name = f"e2e_latency[{args.engine},rate={args.rate:.0f}/s]"
            report(name, latency(running, token, args.rate, args.seconds))


def _run(args: argparse.Namespace, running: Stack) -> tuple[dict[str, float], str]:
    running.latency(args.latency_ms)
    token = alice_token(running)
    mode = ",unconditional" if args.unconditional else ""
    label = f"e2e[{args.engine},latency={args.latency_ms:.0f}ms{mode}]"
    warm_up(running, token)
    spies = None
    if args.profile is not None:
        pids = {p.name: p.pid for p in running.processes if p.name in PROFILED and p.pid}
        spies = Profiles(args.profile, pids, args.profile_seconds)
    figures = throughput(running, token, args.n)
    if spies is not None:
        spies.stop()
        for name, text in spies.summary(top=6).items():
            print(f"profile {name}: {text}", flush=True)
    figures.update(salesforce_calls_per_1000(running, min(args.n, 1000)))
    return figures, label


if __name__ == "__main__":
    main()
