"""Fixtures of the deployment tests: Debian's Prometheus tools and kubectl, installed on demand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.deploy.compose_stack import ComposeStack
from tests.integration.deploy.compose_stack import compose_stack as compose_stack_running
from tests.support.debian import require_binary
from tests.support.live import eventually

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def prometheus_binary() -> Path:
    return require_binary("prometheus", "prometheus", why="the Prometheus scrape test")


@pytest.fixture(scope="session")
def promtool() -> Path:
    return require_binary("promtool", "prometheus", why="the alert rule tests")


@pytest.fixture(scope="session")
def amtool() -> Path:
    return require_binary("amtool", "prometheus-alertmanager", why="the Alertmanager check")


@pytest.fixture(scope="session")
def kubectl() -> Path:
    # The machines carry a current kubectl; Debian's own package (kubernetes-client) is
    # the fallback on a machine without one.
    return require_binary("kubectl", "kubectl", "kubernetes-client", why="the Kubernetes tests")


@pytest.fixture(scope="session")
def compose_stack(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ComposeStack]:
    """docker-compose.yml's sfpms services, running and healthy (see compose_stack.py)."""
    with compose_stack_running(kafka_bootstrap, tmp_path_factory.mktemp("compose")) as stack:
        yield stack


def _linked(stack: ComposeStack, sf_id: str, flow: str) -> str | None:
    from streams.engine.replay import load_link_table

    hub = load_link_table(stack.settings).hubs.get(sf_id)
    link = hub.linked(flow) if hub is not None else None
    return link.pms_id if link is not None else None


@pytest.fixture(scope="session")
def synced_task(compose_stack: ComposeStack) -> dict[str, Any]:
    """A Task a person created in Salesforce, synced to a Custompms project."""
    sf = compose_stack.live.sf_person()
    task_id = sf.Task.create(
        {
            "Subject": "Compose smoke",
            "Status": "In Progress",
            "Priority": "High",
            "ActivityDate": "2026-12-01",
        }
    )["id"]
    project_id = eventually(
        lambda: _linked(compose_stack, task_id, "task_project"), timeout=120, what="project link"
    )
    return {"task_id": task_id, "project_id": project_id}


@pytest.fixture(scope="session")
def alertmanager_binary() -> Path:
    return require_binary(
        "prometheus-alertmanager", "prometheus-alertmanager", why="the Prometheus scrape test"
    )


@pytest.fixture(scope="session")
def chromium_binary() -> Path:
    return require_binary("chromium", "chromium", why="the link page browser test")
