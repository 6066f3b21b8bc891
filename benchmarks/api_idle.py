"""Salesforce API calls a day of a stack with nothing to do, as `sfpms up` runs it.

The broker, both emulators (Salesforce with its Pub/Sub API), the CDC with its default
settings (Task through Change Data Capture, Division and Organization polled adaptively),
one engine worker and the sinks, each a real process on 127.0.0.1. After start-up and a
settling time (the first loads, the polls ramping up to their idle interval) the
emulator's own API counter (what `Sforce-Limit-Info` reports) is read, then again after
`--seconds`; the difference is extrapolated to a day. Calls per endpoint come from the
emulator's request statistics.

Usage: python -m benchmarks.api_idle [--seconds 600] [--settle 300] [--engine noida-db]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from benchmarks.e2e import Stack, stack
from benchmarks.harness import bench_env, report

DAY_S = 86_400.0


def usage(running: Stack) -> int:
    """The org's API calls in the window, from the emulator's counter."""
    with running.sf() as sf:
        counted: dict[str, Any] = sf.get("/__emulator__/info").json()["api_usage"]
    return int(counted["Max"]) - int(counted["Remaining"])


def api_requests(running: Stack) -> dict[str, int]:
    """Counted API requests per endpoint (logins and emulator routes left out)."""
    stats, _ = running.stats()
    return {k: n for k, n in stats.items() if "/services/data" in k}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", default="noida-db", choices=["noida-db", "tansu"])
    parser.add_argument("--seconds", type=float, default=600.0, help="measured idle time")
    parser.add_argument("--settle", type=float, default=300.0, help="idle time before it")
    args = parser.parse_args()
    with bench_env(args.engine, "idle") as bench, stack(bench, None) as running:
        time.sleep(args.settle)
        before, endpoints = usage(running), api_requests(running)
        started = time.monotonic()
        time.sleep(args.seconds)
        after, later = usage(running), api_requests(running)
        elapsed = time.monotonic() - started
    calls = after - before
    spent = {k: n - endpoints.get(k, 0) for k, n in later.items() if n - endpoints.get(k, 0)}
    report(
        f"api_idle[{args.engine},{elapsed:.0f}s after {args.settle:.0f}s]",
        {
            "seconds": elapsed,
            "calls": float(calls),
            "calls_per_day": calls * DAY_S / elapsed,
            "target_per_day": 2000.0,
            "by_endpoint": "; ".join(f"{k} x{n}" for k, n in sorted(spent.items())),
        },
    )


if __name__ == "__main__":
    main()
