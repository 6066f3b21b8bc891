"""The supply chain: the base image is pinned by digest, and the lock files pin every
dependency pyproject.toml names (the dev extra and the build backend included) with hashes,
at versions that satisfy it; `make venv` and the Dockerfile install from them."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[3]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCKS = ROOT / "requirements"
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)(?:\s*;\s*([^\\]+?))?\s*\\?$", re.MULTILINE)


def pins(lock: str) -> dict[str, tuple[str, str | None]]:
    """name -> (version, marker or None) of every package a lock file pins."""
    text = (LOCKS / lock).read_text()
    return {canonicalize_name(n): (v, m) for n, v, m in _PIN.findall(text)}


def wanted(*, dev: bool) -> list[Requirement]:
    project = PYPROJECT["project"]
    found = [Requirement(r) for r in project["dependencies"]]
    found += [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    if dev:
        for extra in project.get("optional-dependencies", {}).values():
            found += [Requirement(r) for r in extra]
    return found


def _applies_here(requirement: Requirement, extras: frozenset[str] = frozenset()) -> bool:
    if requirement.marker is None:
        return True
    environments = [{**default_environment(), "extra": e} for e in (extras or {""})]
    return any(requirement.marker.evaluate(env) for env in environments)  # type: ignore[arg-type]


def test_every_from_line_pins_its_image_by_digest() -> None:
    froms = re.findall(r"^FROM\s+(\S+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert froms
    for image in froms:
        assert re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", image), image


@pytest.mark.parametrize(("lock", "dev"), [("dev.lock", True), ("runtime.lock", False)])
def test_the_lock_pins_every_dependency_of_pyproject_at_a_version_it_allows(
    lock: str, dev: bool
) -> None:
    pinned = pins(lock)
    problems = []
    for requirement in wanted(dev=dev):
        name = canonicalize_name(requirement.name)
        if name not in pinned:
            problems.append(f"{requirement} is not in {lock}")
        elif not requirement.specifier.contains(pinned[name][0], prereleases=True):
            problems.append(f"{lock} pins {name}=={pinned[name][0]}, outside {requirement}")
    assert not problems, "run `make lock`:\n" + "\n".join(problems)


def test_the_extras_the_project_asks_for_are_locked_too() -> None:
    pinned = pins("runtime.lock")
    missing = []
    for requirement in wanted(dev=False):
        if not requirement.extras:
            continue
        for dependency in importlib.metadata.requires(requirement.name) or []:
            needed = Requirement(dependency)
            if needed.marker is None:
                continue
            if _applies_here(needed, frozenset(requirement.extras)) and (
                canonicalize_name(needed.name) not in pinned
            ):
                missing.append(f"{needed.name} (for {requirement})")
    assert not missing, missing


def test_every_pinned_package_carries_hashes_and_both_locks_agree_on_versions() -> None:
    for lock in ("dev.lock", "runtime.lock", "tools.lock"):
        blocks = re.split(r"\n(?=[A-Za-z0-9])", (LOCKS / lock).read_text())
        for block in blocks:
            if _PIN.match(block):
                assert "--hash=sha256:" in block, block.splitlines()[0]
    dev, runtime = pins("dev.lock"), pins("runtime.lock")
    assert set(runtime) <= set(dev)
    assert {n: dev[n][0] for n in runtime} == {n: v for n, (v, _m) in runtime.items()}


def test_what_is_installed_here_is_what_the_dev_lock_pins() -> None:
    wrong = []
    for name, (version, marker) in pins("dev.lock").items():
        if marker and not Requirement(f"x; {marker}").marker.evaluate():  # type: ignore[union-attr]
            continue
        installed = importlib.metadata.version(name)
        if installed != version:
            wrong.append(f"{name}: {installed} installed, {version} locked")
    assert not wrong, "run `make venv`:\n" + "\n".join(wrong)


def test_the_lock_check_passes_here_and_fails_with_what_to_do_once_pyproject_changes(
    tmp_path: Path,
) -> None:
    script = ROOT / "scripts" / "lock.py"
    here = subprocess.run([sys.executable, script, "check"], capture_output=True, text=True)
    assert here.returncode == 0, here.stderr
    pyproject = tmp_path / "pyproject.toml"
    text = (ROOT / "pyproject.toml").read_text()
    pyproject.write_text(
        text.replace("dependencies = [\n", 'dependencies = [\n  "grpcio==1.70.0",\n', 1)
    )
    shutil.copytree(LOCKS, tmp_path / "requirements")
    changed = subprocess.run(
        [
            sys.executable,
            script,
            "check",
            "--pyproject",
            pyproject,
            "--lock-dir",
            tmp_path / "requirements",
        ],
        capture_output=True,
        text=True,
    )
    assert changed.returncode == 1
    assert "run `make lock`" in changed.stderr


def test_make_venv_and_the_image_install_from_the_locks_with_hashes() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "scripts/lock.py check" in makefile
    assert (
        "--require-hashes -r $(LOCK)" in makefile and "LOCK   := requirements/dev.lock" in makefile
    )
    assert "--no-deps --no-build-isolation -e ." in makefile
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes -r requirements/runtime.lock" in dockerfile
    assert "--no-deps --no-build-isolation ." in dockerfile
