"""Pieces of the running product for integration tests: registry, engine workers.

Each piece is real: the registry serves HTTP on 127.0.0.1 and stores in the broker; engine
workers are `sfpms worker` processes, stopped (or killed) by PID.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from pydantic import SecretStr

from foundation.settings import Settings, settings_env
from sfpms.embedded.broker import free_port
from sfpms.embedded.process import ManagedProcess, wait_until
from sfpms.registry.app import Registry, create_registry_app
from sfpms.registry.auth import BasicAuth
from sfpms.registry.log import KafkaLog
from tests.support.servers import serve_in_thread


@contextmanager
def with_registry(settings: Settings) -> Iterator[Settings]:
    """Settings pointing at a fresh embedded registry stored in the test's topics.

    It requires basic auth, as `sfpms registry` does, with a password of its own in the
    settings: every client the tests start must pass the configured credentials."""
    auth = BasicAuth("sfpms-tests", SecretStr("registry-" + secrets.token_hex(16)))
    log = KafkaLog(settings)
    try:
        with serve_in_thread(create_registry_app(Registry(log), auth=auth)) as server:
            yield settings.model_copy(
                update={
                    "schema_registry_url": server.url,
                    "schema_registry_user": auth.user,
                    "schema_registry_password": auth.password,
                }
            )
    finally:
        log.close()  # the app outlives the server (FastAPI caches it); its producer must not


class EngineWorker:
    """One `sfpms worker` process with the test's settings."""

    def __init__(
        self,
        settings: Settings,
        log_dir: Path,
        name: str = "worker",
        *,
        check_schemas: bool = True,
    ) -> None:
        self.web_port = free_port()
        env = {**os.environ, **settings_env(settings)}
        self.process = ManagedProcess(
            name=name,
            argv=[
                sys.executable,
                "-m",
                "sfpms",
                "worker",
                "--web-port",
                str(self.web_port),
                "--instance-id",
                f"{settings.topic_prefix}{name}",
                "--check-schemas" if check_schemas else "--no-check-schemas",
            ],
            log_path=log_dir / f"{name}.log",
            env=env,
        )

    def start(self, timeout: float = 60.0) -> None:
        self.process.start()
        wait_until(self._ready, timeout=timeout, what=f"{self.process.name} web port")

    def _ready(self) -> bool:
        if not self.process.alive():
            raise RuntimeError(f"{self.process.name} exited: {self.log_tail()}")
        try:
            return httpx.get(f"http://127.0.0.1:{self.web_port}/", timeout=0.5).status_code < 500
        except httpx.HTTPError:
            return False

    def log_tail(self, chars: int = 3000) -> str:
        path = self.process.log_path
        return path.read_text(errors="replace")[-chars:] if path and path.exists() else ""

    def stop(self) -> None:
        self.process.stop(grace=15)

    def kill(self) -> None:
        self.process.kill()
