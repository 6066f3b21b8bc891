"""Engine hop: Salesforce Task change envelopes in, Custompms write commands out.

The engine runs as real `sfpms worker` processes (one or two) with the link table; each
change is a Task a person created, so each makes a hub (a table write) and a Project create
command. Rate = changes / (time the last command appeared - time the first change was
produced). Usage: python -m benchmarks.engine_hop [--engine noida-db|tansu] [--n 20000]
[--workers 1] [--profile DIR]

With `--profile DIR` each worker is recorded with py-spy while the changes flow, and the
summary (busy share, where the samples are) is printed and put in the JSON line.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks.harness import (
    Counter,
    bench_env,
    now,
    produce_envelopes,
    report,
    sf_id,
    task_envelope,
)
from benchmarks.profiling import Profiles
from foundation.kafka import topics as t
from tests.support.stack import EngineWorker


def run(
    engine: str, n: int, workers: int, store: str = "rocksdb", profile: Path | None = None
) -> dict[str, float | str]:
    with bench_env(engine, f"hop{workers}") as bench:  # type: ignore[arg-type]
        settings = bench.settings.model_copy(update={"engine_store": store})
        procs = [
            EngineWorker(settings, bench.workdir, f"worker-{i}", check_schemas=False)
            for i in range(workers)
        ]
        for proc in procs:
            proc.start()
        try:
            time.sleep(3 if bench.engine == "noida-db" else 8)  # group join and assignment
            stamp = now()
            records = [(sf_id(i), task_envelope(sf_id(i), f"Task {i}", stamp)) for i in range(n)]
            counter = Counter(bench.settings, t.writes_topic("custompms"))
            counter.wait(0, 1)
            spies = None
            if profile is not None:
                pids = {f"worker-{i}": proc.process.pid for i, proc in enumerate(procs)}
                spies = Profiles(profile, {k: v for k, v in pids.items() if v}, n / 500 + 5)
            started = time.monotonic()
            produce_envelopes(bench.settings, t.changes_topic("salesforce", "task"), records)
            done = counter.wait(n, timeout=600)
            counter.close()
            if done is None:
                raise RuntimeError("not every change became a command within 600 s")
            seconds = done - started
            figures: dict[str, float | str] = {
                "changes": float(n),
                "seconds": seconds,
                "changes_per_s": n / seconds,
            }
            if spies is not None:
                spies.stop()
                figures.update({f"profile_{k}": v for k, v in spies.summary(top=8).items()})
            return figures
        finally:
            for proc in procs:
                proc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", default="noida-db", choices=["noida-db", "tansu"])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--store", default="rocksdb", choices=["rocksdb", "memory"])
    parser.add_argument("--profile", type=Path, default=None, help="py-spy the workers")
    args = parser.parse_args()
    figures = run(args.engine, args.n, args.workers, args.store, args.profile)
    report(f"engine_hop[{args.engine},workers={args.workers},store={args.store}]", figures)


if __name__ == "__main__":
    main()
