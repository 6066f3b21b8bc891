"""The mapping file a command uses: `--mapping FILE`, else SFPMS_MAPPING_FILE, else the
shipped `config/mapping.yaml`. A file that does not load stops the command with its
file:line problems."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from foundation.errors import ConfigError

if TYPE_CHECKING:
    from streams.mapping.loader import LoadedMapping

F = TypeVar("F", bound=Callable[..., Any])


def mapping_option(function: F) -> F:
    """`--mapping FILE` for a command."""
    option = click.option(
        "--mapping",
        "mapping_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Mapping file [SFPMS_MAPPING_FILE; default: the shipped config/mapping.yaml].",
    )
    return option(function)


def effective_mapping(path: Path | None = None) -> LoadedMapping:
    """The `LoadedMapping` in effect for this command (ClickException if it is broken)."""
    from foundation.settings import get_settings
    from streams.mapping.loader import load_mapping

    chosen = path if path is not None else get_settings().mapping_file
    try:
        return load_mapping(chosen)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
