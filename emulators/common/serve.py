"""Run an ASGI app with uvicorn on 127.0.0.1, optionally with TLS."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def serve(
    app: Any,
    port: int,
    *,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    log_level: str = "warning",
) -> None:
    """Serve `app` in the foreground until SIGINT/SIGTERM. Binds 127.0.0.1 only."""
    import uvicorn

    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level=log_level,
        ssl_certfile=str(certfile) if certfile else None,
        ssl_keyfile=str(keyfile) if keyfile else None,
        lifespan="on",
        access_log=False,
        # uvicorn's own logging config would give its loggers handlers of their own; without
        # it they propagate to the process's root handler (which redacts secrets).
        log_config=None,
        timeout_graceful_shutdown=2,
    )
    uvicorn.Server(config).run()
