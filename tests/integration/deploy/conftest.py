"""Fixtures of the deployment tests: Debian's Prometheus tools and kubectl, installed on demand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.deploy.compose_stack import ComposeStack
from tests.integration.deploy.compose_stack import compose_stack as compose_stack_running
from tests.support.debian import require_binary

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
