"""`sfpms docs dataflow`: write (or check) the generated data-flow reference."""

from __future__ import annotations

from pathlib import Path

import click

from sfpms.commands.mapping_file import effective_mapping, mapping_option

DEFAULT_DATAFLOW = Path("docs/dataflow.rst")


@click.group()
def docs() -> None:
    """Generated reference documents."""


@docs.command("dataflow")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DATAFLOW,
    show_default=True,
    help="Where the reStructuredText document goes.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the file is stale.")
@mapping_option
def dataflow(out: Path, check: bool, mapping_path: Path | None) -> None:
    """Render the Salesforce to Custompms data-flow reference from the mapping file."""
    from streams.mapping.dataflow_doc import render_dataflow_rst

    loaded = effective_mapping(mapping_path)
    text = render_dataflow_rst(loaded.flows.values(), source=loaded.source)
    current = out.read_text(encoding="utf-8") if out.is_file() else None
    if check:
        if current != text:
            click.echo(f"{out} is stale: run `sfpms docs dataflow --out {out}`.", err=True)
            raise SystemExit(1)
        click.echo(f"{out} is up to date.")
        return
    if current == text:
        click.echo(f"{out} is already up to date.")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out}")
