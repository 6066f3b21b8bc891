"""`python -m tests.integration.secrets.leaky <sfpms arguments>`: the real `sfpms` command,
with secrets forced into its logs.

The secrets are the process's own configured ones (`SFPMS_SALESFORCE_PASSWORD`, short, and
`SFPMS_CUSTOMPMS_TOKEN`, long). Each forced leak writes a line carrying `MARK`, so the test
can tell that the leak happened and look at what reached the log:

- `leak [--as-click-error]`: a CLI command that logs them, logs an exception (message,
  traceback and stack) carrying them, and dies of an uncaught exception (or a
  ClickException, which click prints itself) carrying them;
- `worker`: the engine worker gets a Faust task that does the same once Faust has set up
  its logging, which crashes the worker;
- every HTTP server started through uvicorn (registry, dashboard, emulators) gets a route
  `GET /forced-leak` that does the same inside a request, so uvicorn logs the crash.
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn

import click

MARK = "FORCED-LEAK"
LEAK_PATH = "/forced-leak"


def _secrets() -> tuple[str, str]:
    from foundation.settings import get_settings

    settings = get_settings()
    assert settings.salesforce_password is not None
    return (
        settings.salesforce_password.get_secret_value(),
        settings.custompms_token.get_secret_value(),
    )


def leak_everything(log: logging.Logger) -> None:
    short, long = _secrets()
    log.warning("%s message: password=%s token=%s", MARK, short, long)
    try:
        raise RuntimeError(f"{MARK} exception: password {short} token {long}")
    except RuntimeError:
        log.exception("%s traceback", MARK, stack_info=True)


def raise_uncaught() -> NoReturn:
    short, long = _secrets()
    raise RuntimeError(f"{MARK} uncaught: password {short} token {long}")


@click.command()
@click.option("--as-click-error", is_flag=True, help="End with a ClickException instead.")
def leak(as_click_error: bool) -> None:
    """Log the configured secrets every way there is, then die of them."""
    leak_everything(logging.getLogger("sfpms.forced"))
    if as_click_error:
        short, long = _secrets()
        raise click.ClickException(f"{MARK} uncaught: password {short} token {long}")
    raise_uncaught()


def _patch_worker() -> None:
    import streams.engine.app as engine_app

    real = engine_app.create_app

    def create_app(*args: Any, **kwargs: Any) -> Any:
        app = real(*args, **kwargs)

        @app.task
        async def leak_from_faust() -> None:
            leak_everything(logging.getLogger("streams.forced"))
            raise_uncaught()

        return app

    engine_app.create_app = create_app


def _patch_http_servers() -> None:
    import uvicorn

    real_init = uvicorn.Config.__init__

    def init(self: uvicorn.Config, app: Any, *args: Any, **kwargs: Any) -> None:
        def forced_leak() -> None:
            leak_everything(logging.getLogger("sfpms.forced.http"))
            raise_uncaught()

        app.add_api_route(LEAK_PATH, forced_leak, methods=["GET"])
        real_init(self, app, *args, **kwargs)

    uvicorn.Config.__init__ = init  # type: ignore[method-assign]


def main() -> None:
    from sfpms import cli

    cli.COMMANDS["leak"] = "tests.integration.secrets.leaky:leak"
    _patch_worker()
    _patch_http_servers()
    cli.main()


if __name__ == "__main__":
    main()
