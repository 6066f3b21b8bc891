"""Fixtures of the deployment tests: Debian's Prometheus tools and kubectl, installed on demand."""

from __future__ import annotations

from pathlib import Path

import pytest

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
