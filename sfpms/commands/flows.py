"""`sfpms flows`: show the flows, their rows and policies (a table, or JSON for tools)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sfpms.commands.mapping_file import effective_mapping, mapping_option


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--validate",
    is_flag=True,
    help="Check every row against the live Salesforce describe and Custompms OpenAPI.",
)
@mapping_option
def flows(as_json: bool, validate: bool, mapping_path: Path | None) -> None:
    """List every flow of the mapping file with its rows, creation and delete policies."""
    from streams.mapping.export import flow_as_dict

    loaded = effective_mapping(mapping_path)
    if validate:
        from connectors.schemas_live import validate_against_live_schemas
        from foundation.errors import ConfigError
        from foundation.settings import get_settings

        try:
            warnings = validate_against_live_schemas(get_settings(), loaded.flows)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
        for finding in warnings:
            click.echo(f"warning: {finding.text()}", err=True)
        click.echo(f"all {len(loaded.flows)} flows fit the live Salesforce and Custompms schemas")
        return
    data = [flow_as_dict(flow) for flow in loaded.flows.values()]
    if as_json:
        click.echo(json.dumps({"flows": data}, indent=2))
        return
    print_tables(data)


def print_tables(data: list[dict[str, object]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for flow in data:
        table = Table(title=f"{flow['name']}: {flow['title']}", title_justify="left")
        for column in ("Salesforce", "", "Custompms", "Type"):
            table.add_column(column, no_wrap=True)
        for column in ("To Custompms", "To Salesforce"):
            table.add_column(column, overflow="fold")
        arrows = {"both": "<->", "sf_to_pms": "->", "pms_to_sf": "<-"}
        rows = flow["rows"]
        assert isinstance(rows, list)
        for row in rows:
            table.add_row(
                row["sf_field"] or "-",
                arrows[row["direction"]],
                row["pms_field"],
                row["pms_type"] + (" (lossy)" if row["lossy"] else ""),
                row["to_pms"] or "",
                row["to_sf"] or "",
            )
        console.print(table)
        policies = flow["policies"]
        assert isinstance(policies, dict)
        console.print(
            f"  create in Custompms: {policies['create_in_pms']}, "
            f"create in Salesforce: {policies['create_in_sf']}, "
            f"match on: {', '.join(policies['match_on']) or '-'}"
        )
        for side in ("sf_deleted", "pms_deleted"):
            rule = policies[side]
            patch = f" {json.dumps(rule['patch'])}" if rule["patch"] else ""
            console.print(f"  {side}: {rule['action']}{patch}", markup=False)
        for need in policies["requires"]:
            console.print(f"  requires: {need['field']} from flow {need['flow']}", markup=False)
        criteria = ", ".join(
            f"{m['salesforce']} / {m['custompms']}" for m in policies.get("onboarding_match", [])
        )
        console.print(
            f"  onboarding match: {criteria or '-'}; existing records: "
            f"{policies.get('existing_records', '-')}",
            markup=False,
        )
        scope = policies.get("scope") or {}
        if scope.get("salesforce") or scope.get("custompms"):
            console.print(
                f"  scope: Salesforce {scope.get('salesforce') or 'every record'}; Custompms "
                f"{json.dumps(scope.get('custompms') or {})}; leaving: {scope['when_leaving']}",
                markup=False,
            )
        console.print()
