"""The hash-pinned lock files, and the check that they match pyproject.toml.

    python scripts/lock.py check              exit 1 (saying "run `make lock`") when they disagree
    python scripts/lock.py compile --uv UV    regenerate them (what `make lock` runs)
    python scripts/lock.py compile --uv UV --upgrade   ... taking the newest versions allowed

Files (README.md "Supply chain"):

- `requirements/dev.lock`: everything `make venv` installs: the dependencies, the `dev` extra
  and the build backend (setuptools, wheel), every version pinned with the hashes of all its
  files on PyPI, for every platform (`uv pip compile --universal`).
- `requirements/runtime.lock`: what the Docker image installs: the dependencies and the build
  backend, at the same versions as dev.lock (compiled with dev.lock as constraints).
- `requirements/tools.lock`: uv itself (version in `requirements/tools.in`), which
  `make lock` installs with hashes too before it runs it.

Each lock's first line records a hash of the inputs it was made from (`requires-python`,
`dependencies`, `optional-dependencies`, `build-system.requires` of pyproject.toml).
`check` needs only the standard library: `make venv` runs it before anything is installed.
Without `--upgrade`, uv keeps the versions already in a lock and only resolves what changed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK_DIR = ROOT / "requirements"
DEV, RUNTIME = "dev.lock", "runtime.lock"
PYTHON_VERSION = "3.11"
MARK = "# pyproject-inputs: sha256:"
NOTE = "# Do not edit: `make lock` regenerates this file from pyproject.toml.\n"
_MARK_LINE = re.compile(r"^# pyproject-inputs: sha256:([0-9a-f]{64})$", re.MULTILINE)


def inputs_digest(pyproject: Path) -> str:
    """A hash of the parts of pyproject.toml a lock is made from."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    project = data.get("project", {})
    inputs = {
        "requires-python": project.get("requires-python"),
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": project.get("optional-dependencies", {}),
        "build-system": data.get("build-system", {}).get("requires", []),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def recorded_digest(lock: Path) -> str | None:
    try:
        found = _MARK_LINE.search(lock.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return found.group(1) if found else None


def check(pyproject: Path, lock_dir: Path) -> list[str]:
    """What disagrees, in words for the person running make (empty: all agree)."""
    wanted = inputs_digest(pyproject)
    problems = []
    for name in (DEV, RUNTIME):
        lock = lock_dir / name
        found = recorded_digest(lock)
        if found is None:
            problems.append(f"{lock.relative_to(lock_dir.parent)} is missing or has no inputs line")
        elif found != wanted:
            problems.append(
                f"{lock.relative_to(lock_dir.parent)} was made from other dependencies than "
                f"{pyproject.name} lists now"
            )
    return problems


def _compile(uv: str, sources: list[Path], out: Path, *extra: str) -> None:
    argv = [
        uv, "pip", "compile", *map(str, sources), "--quiet", "--no-config",
        "--generate-hashes", "--universal", "--python-version", PYTHON_VERSION,
        "--custom-compile-command", "make lock", "--output-file", str(out), *extra,
    ]  # fmt: skip
    subprocess.run(argv, check=True, cwd=ROOT)


def _stamp(lock: Path, digest: str) -> None:
    """Put the inputs line (and a do-not-edit note) on top of what uv wrote."""
    kept = [
        line
        for line in lock.read_text(encoding="utf-8").splitlines(keepends=True)
        if not line.startswith(MARK) and line != NOTE
    ]
    lock.write_text(f"{MARK}{digest}\n{NOTE}" + "".join(kept), encoding="utf-8")


def compile_locks(uv: str, pyproject: Path, lock_dir: Path, upgrade: bool) -> None:
    """Regenerate dev.lock, then runtime.lock constrained to dev.lock's versions."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    build = data.get("build-system", {}).get("requires", [])
    digest = inputs_digest(pyproject)
    more = ["--upgrade"] if upgrade else []
    with tempfile.TemporaryDirectory() as scratch:
        build_in = Path(scratch) / "build-system.in"
        build_in.write_text("\n".join(build) + "\n", encoding="utf-8")
        dev, runtime = lock_dir / DEV, lock_dir / RUNTIME
        _compile(uv, [pyproject, build_in], dev, "--all-extras", *more)
        _compile(uv, [pyproject, build_in], runtime, "--constraint", str(dev), *more)
    for lock in (dev, runtime):
        _stamp(lock, digest)
    tools = lock_dir / "tools.in"
    if tools.exists():
        _compile(uv, [tools], lock_dir / "tools.lock", *more)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["check", "compile"])
    parser.add_argument("--uv", help="the uv executable (compile)")
    parser.add_argument("--upgrade", action="store_true", help="take the newest versions")
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    parser.add_argument("--lock-dir", type=Path, default=LOCK_DIR)
    args = parser.parse_args(argv)
    if args.command == "compile":
        if not args.uv:
            parser.error("compile needs --uv (make lock installs it)")
        compile_locks(args.uv, args.pyproject, args.lock_dir, args.upgrade)
        return 0
    problems = check(args.pyproject, args.lock_dir)
    for problem in problems:
        print(f"lock check: {problem}", file=sys.stderr)
    if problems:
        print(
            "pyproject.toml and the lock files disagree: run `make lock` and commit "
            'requirements/*.lock (README.md "Supply chain")',
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
