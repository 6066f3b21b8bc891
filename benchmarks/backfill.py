"""Backfill of N Salesforce Tasks (default 100,000): Salesforce API calls and time.

The Salesforce emulator runs as its own process (in memory); the Tasks are loaded through
its admin route (no API calls). Then `run_backfill` (what `sfpms backfill --flow
task_project --source salesforce` runs) publishes every Task as op r to the change topic
of a fresh broker: through Bulk API 2.0, as N is above the default threshold of 10,000.
Calls are the emulator's API counter before and after; time is the backfill's.

Usage: python -m benchmarks.backfill [--n 100000] [--threshold 10000] [--engine noida-db]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

import httpx

from benchmarks.harness import bench_env, report
from connectors.cdc.backfill_run import run_backfill
from foundation.settings import settings_env
from sfpms.embedded.broker import free_port, port_open
from sfpms.embedded.process import ManagedProcess, wait_until

CHUNK = 5_000


def _usage(http: httpx.Client) -> int:
    counted: dict[str, Any] = http.get("/__emulator__/info").json()["api_usage"]
    return int(counted["Max"]) - int(counted["Remaining"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", default="noida-db", choices=["noida-db", "tansu"])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--threshold", type=int, default=None, help="bulk_threshold")
    args = parser.parse_args()
    with bench_env(args.engine, "backfill") as bench:
        port = free_port()
        sf_dir = bench.workdir / "salesforce"
        settings = bench.settings.model_copy(
            update={
                "salesforce_url": f"https://127.0.0.1:{port}",
                "salesforce_ca_bundle": sf_dir / "cert.pem",
            }
        )
        argv = [sys.executable, "-m", "sfpms", "emulate", "salesforce", "--port", str(port)]
        argv += ["--memory", "--no-seed", "--data-dir", str(sf_dir), "--api-limit", "10000000"]
        emulator = ManagedProcess(
            "salesforce",
            argv,
            log_path=bench.workdir / "salesforce.log",
            env={**os.environ, **settings_env(settings)},
        )
        emulator.start()
        try:
            wait_until(lambda: port_open(port), timeout=60, what="the Salesforce emulator")
            with httpx.Client(
                base_url=settings.salesforce_base_url(),
                verify=str(sf_dir / "cert.pem"),
                timeout=300,
            ) as http:
                for start in range(0, args.n, CHUNK):
                    records = [
                        {"Subject": f"Backfill {n}", "Priority": "Normal", "Description": "x" * 80}
                        for n in range(start, min(start + CHUNK, args.n))
                    ]
                    body = {"type": "Task", "records": records}
                    http.post("/__emulator__/records", json=body).raise_for_status()
                before = _usage(http)
                options = settings.capture
                if args.threshold is not None:
                    options = options.model_copy(update={"bulk_threshold": args.threshold})
                (result,) = asyncio.run(
                    run_backfill(settings, "task_project", options, sides=("salesforce",))
                )
                calls = _usage(http) - before
        finally:
            emulator.stop(grace=10)
    report(
        f"backfill[{args.engine},n={args.n}]",
        {
            "records": float(result.published),
            "via": result.via,
            "seconds": result.seconds,
            "records_per_s": result.published / result.seconds if result.seconds else 0.0,
            "salesforce_calls": float(calls),
            "target_calls": 50.0,
        },
    )


if __name__ == "__main__":
    main()
