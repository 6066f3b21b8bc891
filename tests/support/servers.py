"""Real HTTP servers on 127.0.0.1 for tests: an ASGI app under uvicorn in a thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from sfpms.embedded.broker import free_port, port_open


class ThreadedServer:
    """uvicorn serving `app` on 127.0.0.1:port in a daemon thread; stopped on exit."""

    def __init__(
        self,
        app: Any,
        port: int | None = None,
        *,
        certfile: Path | None = None,
        keyfile: Path | None = None,
    ) -> None:
        self.port = port or free_port()
        self.scheme = "https" if certfile else "http"
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            ssl_certfile=str(certfile) if certfile else None,
            ssl_keyfile=str(keyfile) if keyfile else None,
            lifespan="on",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.started and port_open(self.port):
                return
            time.sleep(0.02)
        raise TimeoutError(f"server on port {self.port} did not start in {timeout}s")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@contextmanager
def serve_in_thread(app: Any, **kwargs: Any) -> Iterator[ThreadedServer]:
    """Context manager: a started `ThreadedServer`, stopped afterwards."""
    server = ThreadedServer(app, **kwargs)
    server.start()
    try:
        yield server
    finally:
        server.stop()
