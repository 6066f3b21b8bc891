"""py-spy profiles of the stack's processes during a benchmark, summarised in one line each.

`Profiles(directory, {"cdc": pid, ...}, seconds)` records each process with
`py-spy record --format raw` (collapsed stacks) while the benchmark runs; `summary()` then
gives, per process, the share of samples in idle waits and the functions holding the most
samples (by inclusive time, product and library frames alike), which is what
docs/benchmarks.md quotes when a figure misses its target.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

#: Leaf frames that mean "waiting", not working.
IDLE = ("select", "epoll", "poll (", "wait (", "sleep", "_run_once", "acquire", "recv_into")


class Profiles:
    """py-spy recorders of several processes (stopped by PID at `stop()`)."""

    def __init__(self, directory: Path, pids: dict[str, int], seconds: float) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        beside = Path(sys.executable).parent / "py-spy"  # the virtualenv's, if installed there
        spy = str(beside) if beside.exists() else shutil.which("py-spy")
        if spy is None:
            raise RuntimeError("py-spy is not installed: pip install py-spy (profiling only)")
        self.recorders = {
            name: subprocess.Popen(
                [
                    spy,
                    "record",
                    "--format",
                    "raw",
                    "--rate",
                    "50",
                    "--nonblocking",
                    "--duration",
                    str(int(seconds)),
                    "--pid",
                    str(pid),
                    "--output",
                    str(self.directory / f"{name}.txt"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for name, pid in pids.items()
        }

    def stop(self, timeout: float = 60.0) -> None:
        for recorder in self.recorders.values():
            try:
                recorder.wait(timeout)
            except subprocess.TimeoutExpired:
                recorder.terminate()
                recorder.wait(10)

    def summary(self, top: int = 4) -> dict[str, str]:
        """Per process: `busy N%; f1 a%, f2 b%, ...` (inclusive shares of busy samples)."""
        out: dict[str, str] = {}
        for name in self.recorders:
            path = self.directory / f"{name}.txt"
            if path.exists():
                out[name] = summarise(path.read_text(errors="replace"), top)
        return out


PRODUCT = ("connectors/", "streams/", "foundation/", "sfpms/", "emulators/")


def summarise(collapsed: str, top: int) -> str:
    """Busy share, then where busy samples are: the deepest product frame of each stack
    (what our code was doing) and the leaf frame (what finally ran)."""
    total = busy = 0
    ours: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        if any(word in frames[-1] for word in IDLE):
            continue
        busy += n
        leaves[_short(frames[-1])] += n
        mine = [f for f in frames if any(part in f for part in PRODUCT)]
        ours[_short(mine[-1]) if mine else "(outside the product)"] += n
    if not total:
        return "no samples"

    def shares(counter: Counter[str]) -> str:
        return ", ".join(f"{f} {100 * n / busy:.0f}%" for f, n in counter.most_common(top))

    return f"busy {100 * busy / total:.0f}%; ours: {shares(ours)}; leaves: {shares(leaves)}"


def _short(frame: str) -> str:
    """`func (path/to/file.py:12)` -> `func (file.py)`."""
    func, _, where = frame.partition(" (")
    return f"{func} ({where.rsplit('/', 1)[-1].split(':')[0]})" if where else func
