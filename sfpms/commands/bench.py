"""`sfpms bench NAME`: run a benchmark (each prints figures; see docs/benchmarks.md)."""

from __future__ import annotations

import subprocess
import sys

import click

BENCHMARKS = {
    "baseline": ["--engine", "{engine}"],
    "engine_hop": ["--engine", "{engine}"],
    "mapping_core": [],
    "schema_shapes": [],
    "e2e": ["--engine", "{engine}"],
    "burst": ["--engine", "{engine}"],
    "replay_rate": ["--engine", "{engine}"],
    "worker_rss": [],
    "backfill": ["--engine", "{engine}"],
    "sf_writes": ["--engine", "{engine}"],
    "edit_latency": ["--engine", "{engine}"],
    "api_idle": ["--engine", "{engine}"],  # 15 minutes of an idle stack
}


@click.command()
@click.argument("name", type=click.Choice(["all", *BENCHMARKS]))
@click.option("--engine", type=click.Choice(["noida-db", "tansu"]), default="noida-db")
@click.argument("extra", nargs=-1, type=click.UNPROCESSED)
def bench(name: str, engine: str, extra: tuple[str, ...]) -> None:
    """Run benchmark NAME (or all of them) on the embedded ENGINE; EXTRA goes to the script.

    Benchmarks start their own broker, registry and processes on 127.0.0.1 and stop them.
    They need the repository checkout (benchmarks/ is not installed with the package).
    """
    names = list(BENCHMARKS) if name == "all" else [name]
    failed = []
    for bench_name in names:
        args = [a.format(engine=engine) for a in BENCHMARKS[bench_name]]
        command = [sys.executable, "-m", f"benchmarks.{bench_name}", *args, *extra]
        click.echo(f"$ {' '.join(command[1:])}", err=True)
        if subprocess.run(command, check=False).returncode != 0:
            failed.append(bench_name)
    if failed:
        raise click.ClickException(f"failed: {', '.join(failed)}")
