"""`sfpms emulate custompms`: serve the Custompms emulator on 127.0.0.1 (plain HTTP)."""

from __future__ import annotations

from pathlib import Path

import click

from foundation.settings import get_settings


def _parse_tokens(values: tuple[str, ...]) -> dict[str, str]:
    tokens: dict[str, str] = {}
    for value in values:
        token, sep, client = value.partition("=")
        if not sep or not token or not client:
            raise click.BadParameter(
                "expected TOKEN=CLIENT, e.g. my-token=alice", param_hint="--token"
            )
        tokens[token] = client
    return tokens


@click.command(name="custompms")
@click.option("--port", type=int, default=None, help="Default: SFPMS_CUSTOMPMS_EMULATOR_PORT.")
@click.option("--memory", is_flag=True, help="Keep data in memory only (lost on exit).")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where custompms.db lives. Default: SFPMS_DATA_DIR/custompms.",
)
@click.option("--seed/--no-seed", default=False, help="Add demo data when the store is empty.")
@click.option(
    "--custom-fields",
    "custom_fields_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="YAML/JSON file declaring custom fields (see docs/custompms-api.md).",
)
@click.option(
    "--token",
    "extra_tokens",
    multiple=True,
    metavar="TOKEN=CLIENT",
    help="Accept TOKEN as client CLIENT (repeatable), besides the default tokens.",
)
def command(
    port: int | None,
    memory: bool,
    data_dir: Path | None,
    seed: bool,
    custom_fields_file: Path | None,
    extra_tokens: tuple[str, ...],
) -> None:
    """Run the Custompms API emulator in the foreground."""
    from emulators.common.serve import serve
    from emulators.custompms.app import create_app
    from emulators.custompms.config import DEFAULT_TOKENS, CustompmsEmulatorConfig
    from emulators.custompms.custom_fields import (
        CustomFields,
        CustomFieldsError,
        load_custom_fields,
    )

    settings = get_settings()
    port = port or settings.custompms_emulator_port
    db_path = None if memory else (data_dir or settings.data_dir / "custompms") / "custompms.db"
    tokens = {**DEFAULT_TOKENS, **_parse_tokens(extra_tokens)}
    try:
        custom = load_custom_fields(custom_fields_file) if custom_fields_file else CustomFields()
    except CustomFieldsError as exc:
        raise click.BadParameter(str(exc), param_hint="--custom-fields") from exc
    app = create_app(
        CustompmsEmulatorConfig(db_path=db_path, tokens=tokens, seed=seed, custom_fields=custom)
    )
    where = "memory" if db_path is None else str(db_path)
    # Clients are listed, tokens never are.
    clients = ", ".join(sorted(set(tokens.values())))
    click.echo(f"Custompms emulator on http://127.0.0.1:{port}/api/v1")
    click.echo(f"  store: {where}; clients: {clients}")
    serve(app, port)
