"""The `sfpms` command line.

Each sub-command lives in its own module under `sfpms/commands/` and is imported only when it
is used, so `sfpms --help` stays fast and a broken optional part cannot break the others.

Every verb is guarded (`_guard`): before it runs, its configuration must be one it accepts
and what it needs (sfpms/preflight.py) must answer; a refused setting (ConfigError) or a
broker or API that is not there ends the verb with one line naming the setting or address
and what to do, and a non-zero exit, instead of a traceback or pages of client retries.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
import sys
from collections.abc import Callable
from typing import Any

import click

from sfpms import __version__

#: sub-command name -> "module:attribute" of its click command or group.
COMMANDS: dict[str, str] = {
    "up": "sfpms.commands.up:up",
    "status": "sfpms.commands.status:status",
    "broker": "sfpms.commands.broker:broker",
    "registry": "sfpms.commands.registry:registry",
    "topics": "sfpms.commands.topics:topics",
    "emulate": "sfpms.commands.emulate:emulate",
    "flows": "sfpms.commands.flows:flows",
    "mapping": "sfpms.commands.mapping:mapping",
    "onboard": "sfpms.commands.onboard:onboard",
    "docs": "sfpms.commands.docs:docs",
    "cdc": "sfpms.commands.cdc:cdc",
    "backfill": "sfpms.commands.backfill:backfill",
    "worker": "sfpms.commands.worker:worker",
    "sink": "sfpms.commands.sink:sink",
    "links": "sfpms.commands.links:links",
    "dlq": "sfpms.commands.dlq:dlq",
    "replay": "sfpms.commands.replay:replay",
    "lag": "sfpms.commands.lag:lag",
    "dashboard": "sfpms.commands.dashboard:dashboard",
    "bench": "sfpms.commands.bench:bench",
}


class LazyGroup(click.Group):
    """A click group whose sub-commands ("module:attribute") are imported on first use."""

    def __init__(self, *args: Any, lazy_commands: dict[str, str] | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self.lazy_commands = COMMANDS if lazy_commands is None else lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        eager = super().list_commands(ctx)
        lazy = [n for n, target in self.lazy_commands.items() if _module_exists(target)]
        return sorted({*eager, *lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        eager = super().get_command(ctx, cmd_name)
        if eager is not None:
            return eager
        target = self.lazy_commands.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        _guard(command, cmd_name)
        return command


def _guard(command: click.Command, path: str) -> None:
    """Wrap the callbacks of `command` (and of a group's sub-commands) once."""
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            _guard(sub, f"{path} {name}")
    if command.callback is None or getattr(command.callback, "_sfpms_guarded", False):
        return
    command.callback = _guarded(path, command.callback)


def _mapping_first(path: str, kwargs: dict[str, Any]) -> None:
    """A broken mapping file is the operator's own to fix and needs nothing outside: it is
    reported (file:line) before any dependency is probed."""
    from sfpms.commands.mapping_file import effective_mapping

    if "mapping_path" in kwargs:
        effective_mapping(kwargs["mapping_path"])
    elif path == "mapping validate":
        effective_mapping(kwargs.get("file"))


def _guarded(path: str, callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        from foundation.errors import ConfigError
        from foundation.settings import get_settings
        from sfpms import preflight

        settings = get_settings()
        try:
            _mapping_first(path, kwargs)
            preflight.check(path, settings, kwargs)
            return callback(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except ConfigError as exc:  # its message says what to set
            raise click.ClickException(str(exc)) from None
        except Exception as exc:
            line = preflight.explain(exc, settings)
            if line is None:
                raise
            raise click.ClickException(line) from None

    run._sfpms_guarded = True  # type: ignore[attr-defined]
    return run


def _module_exists(target: str) -> bool:
    module_name = target.split(":")[0]
    try:
        return importlib.util.find_spec(module_name) is not None
    except ModuleNotFoundError:
        return False


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sfpms")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def cli(verbose: bool) -> None:
    """Two-way streaming sync between Salesforce and Custompms on Kafka."""
    from foundation.logs import configure_logging
    from foundation.settings import get_settings

    # Settings are read once per invocation: a second invocation in the same process (an
    # embedding program, or a test using click's runner) must see its own environment.
    get_settings.cache_clear()
    configure_logging(logging.DEBUG if verbose else None)


def main() -> None:
    """Console-script entry point.

    Click would print an error's message as it is; it goes through the log redaction first,
    so a secret that reached an exception message is not shown in the terminal either.
    """
    try:
        code = cli.main(prog_name="sfpms", standalone_mode=False)
    except click.ClickException as exc:
        from foundation.logs import redact

        exc.message = redact(exc.message)
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Aborted!", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
