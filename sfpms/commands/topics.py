"""`sfpms topics create|list`: the topic catalogue on the configured broker."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from foundation.kafka.admin import describe_topics, ensure_topics
from foundation.kafka.topics import catalogue
from foundation.settings import get_settings


@click.group()
def topics() -> None:
    """Create or list every topic the product uses."""


@topics.command("create")
def create() -> None:
    """Create the missing topics with their partitions and config (idempotent)."""
    settings = get_settings()
    created = ensure_topics(settings, catalogue())
    click.echo(f"{len(created)} created, {len(catalogue()) - len(created)} already present")


@topics.command("list")
def list_() -> None:
    """Show each catalogue topic, its partitions and whether it exists."""
    settings = get_settings()
    table = Table("topic", "partitions", "policy", "state", "purpose")
    for state in describe_topics(settings, catalogue()):
        partitions = f"{state.partitions}/{state.expected_partitions}"
        status = (
            "ok"
            if state.exists and state.partitions == state.expected_partitions
            else ("missing" if not state.exists else "MISMATCH")
        )
        policy = "compact" if state.spec.compacted else "delete"
        table.add_row(state.name, partitions, policy, status, state.spec.purpose)
    Console().print(table)
