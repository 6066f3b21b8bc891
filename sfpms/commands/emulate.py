"""`sfpms emulate salesforce|custompms`: run an emulator in the foreground."""

from __future__ import annotations

import click

from sfpms.cli import LazyGroup


@click.group(
    cls=LazyGroup,
    lazy_commands={
        "salesforce": "emulators.salesforce.cli:command",
        "custompms": "emulators.custompms.cli:command",
    },
)
def emulate() -> None:
    """Run a local stand-in for Salesforce or Custompms on 127.0.0.1."""
