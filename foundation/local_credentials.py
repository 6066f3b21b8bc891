"""Credentials the embedded stack makes for itself: the schema registry's basic-auth login.

When no registry credentials are configured, `sfpms up` (or `sfpms registry` on the
loopback interface) generates a long random password once and keeps it in
`<data dir>/registry/credentials.json`, readable by its owner only. The embedded registry
accepts it and every client of the embedded registry reads it from there (through
`Settings.registry_credentials`), so the CLI in another terminal finds it as well. Delete
the file to rotate it; the next start makes a new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path

from pydantic import SecretStr

LOCAL_USER = "sfpms"
FILE = Path("registry") / "credentials.json"


def credentials_path(data_dir: Path) -> Path:
    return data_dir / FILE


def read_local_credentials(data_dir: Path) -> tuple[str, SecretStr] | None:
    """The generated (user, password), or None when none were generated here yet."""
    path = credentials_path(data_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(
            f"{path} is not a readable credentials file ({exc.__class__.__name__}); "
            "delete it and start the registry again to make a new one"
        ) from None
    return str(data["user"]), SecretStr(str(data["password"]))


def ensure_local_credentials(data_dir: Path) -> tuple[str, SecretStr]:
    """The generated credentials, made now if there are none (safe against a racing start)."""
    found = read_local_credentials(data_dir)
    if found is not None:
        return found
    path = credentials_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"user": LOCAL_USER, "password": secrets.token_urlsafe(32)})
    # Written whole under another name, then linked into place: a reader never sees half a
    # file, and of two starts at once the second keeps the first one's credentials.
    scratch = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(body)
        with contextlib.suppress(FileExistsError):
            os.link(scratch, path)
    finally:
        scratch.unlink(missing_ok=True)
    found = read_local_credentials(data_dir)
    assert found is not None
    return found
