"""Debian tools the tests need (Prometheus, promtool, kubectl, Chromium), installed on demand.

CI starts from a machine with Python only, so a session that needs a tool installs its
Debian package with apt-get (the machines run as root; `sudo -n` otherwise). If that
fails, the test fails with the command to run by hand: it never skips. Services that a
package would start are not started (the machines' policy-rc.d forbids it, and the
package's daemon is not what the tests run anyway).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

_LOCK = threading.Lock()
_UPDATED = False


def _run(argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)


def _install(packages: list[str]) -> str | None:
    """apt-get install `packages`; None on success, else what went wrong."""
    global _UPDATED
    if shutil.which("apt-get") is None:
        return "apt-get is not available on this machine"
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    steps = [["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]]
    if not _UPDATED:
        steps.insert(0, ["apt-get", "update", "-q"])
    try:
        for argv in steps:
            done = _run(prefix + argv, timeout=900)
            if done.returncode != 0:
                return f"`{' '.join(argv)}` exited {done.returncode}: {done.stderr[-1500:]}"
            if argv[1] == "update":
                _UPDATED = True
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def require_binary(binary: str, *packages: str, why: str) -> Path:
    """The path of `binary`, installing the first of `packages` that provides it."""
    with _LOCK:
        found = shutil.which(binary)
        if found:
            return Path(found)
        problems = []
        for package in packages:
            problem = _install([package])
            found = shutil.which(binary)
            if found:
                return Path(found)
            problems.append(f"{package}: {problem or f'no {binary} after install'}")
    pytest.fail(
        f"{why} needs `{binary}` and it could not be installed ({'; '.join(problems)}). "
        f"Install it with `apt-get install {packages[0]}` (as root) and run the tests again.",
        pytrace=False,
    )
