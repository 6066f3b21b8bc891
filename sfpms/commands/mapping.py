"""`sfpms mapping validate|show|diff`: check, print and compare mapping files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sfpms.commands.mapping_file import effective_mapping

if TYPE_CHECKING:
    from streams.mapping.loader import LoadedMapping
    from streams.mapping.validate import Finding

_FILE = click.Path(dir_okay=False, path_type=Path)


@click.group()
def mapping() -> None:
    """The mapping file: which fields sync, creation, deletes, match and scope."""


@mapping.command("validate")
@click.argument("file", type=_FILE, required=False)
@click.option("--offline", is_flag=True, help="Check the file only; skip the live systems.")
def validate(file: Path | None, offline: bool) -> None:
    """Check FILE (default: the mapping in effect): its schema, then, unless --offline, the
    live Salesforce describe and scope queries, the Custompms OpenAPI document and the
    schema registry. Exit status 1 on any error."""
    loaded = effective_mapping(file)
    click.echo(f"{loaded.source}: {len(loaded.flows)} flows, the file is well-formed")
    if offline:
        return
    findings, skipped = _live_findings(loaded)
    for line in skipped:
        click.echo(f"skipped: {line}", err=True)
    errors = [f for f in findings if f.level == "error"]
    for finding in findings:
        click.echo(f"{finding.level}: {finding.text()}", err=finding.level == "error")
    if errors:
        click.echo(f"{len(errors)} error(s): fix them and run this again", err=True)
        raise SystemExit(1)
    if not skipped:
        click.echo("the mapping fits the live Salesforce, Custompms and schema registry")


def _live_findings(loaded: LoadedMapping) -> tuple[list[Finding], list[str]]:
    """Findings against each live system that answers; what could not be checked."""
    import httpx

    from connectors.schemas_live import check_against_live, check_registry
    from foundation.errors import SyncError
    from foundation.settings import get_settings

    settings = get_settings()
    findings: list[Finding] = []
    skipped: list[str] = []
    try:
        findings += check_against_live(settings, loaded.flows)
    except (httpx.HTTPError, OSError, SyncError) as exc:
        skipped.append(
            f"Salesforce describe and Custompms OpenAPI unreachable ({type(exc).__name__}: "
            f"{exc}); run again when they answer, or use --offline"
        )
    try:
        findings += check_registry(settings, loaded.flows)
    except (httpx.HTTPError, OSError) as exc:
        skipped.append(f"schema registry unreachable ({type(exc).__name__}: {exc})")
    return findings, skipped


@mapping.command("show")
@click.argument("file", type=_FILE, required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def show(file: Path | None, as_json: bool) -> None:
    """Print the effective mapping and the file it came from."""
    from sfpms.commands.flows import print_tables
    from streams.mapping.export import flow_as_dict

    loaded = effective_mapping(file)
    data = [flow_as_dict(flow) for flow in loaded.flows.values()]
    if as_json:
        payload = {"source": loaded.source, "digest": loaded.digest, "flows": data}
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(f"mapping file: {loaded.source} (sha256 {loaded.digest})")
    print_tables(data)


@mapping.command("diff")
@click.argument("old", type=_FILE)
@click.argument("new", type=_FILE)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def diff(old: Path, new: Path, as_json: bool) -> None:
    """List the rows and policies added (+), removed (-) and changed (~) from OLD to NEW."""
    from streams.mapping.diff import diff_mappings

    before, after = effective_mapping(old), effective_mapping(new)
    changes = diff_mappings(before.flows, after.flows)
    if as_json:
        click.echo(json.dumps({"changes": [c.as_dict() for c in changes]}, indent=2))
        return
    if not changes:
        click.echo(f"no differences between {before.source} and {after.source}")
        return
    for change in changes:
        click.echo(change.text())
    click.echo(f"{len(changes)} difference(s)")
