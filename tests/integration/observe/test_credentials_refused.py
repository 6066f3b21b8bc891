"""A refused token is reported loudly: `sfpms status` reads it from the CDC's /metrics."""

from __future__ import annotations

import pytest
from prometheus_client import start_http_server

from connectors.cdc.metrics import CdcMetrics
from foundation import metrics
from foundation.settings import Settings
from sfpms.budget_status import scrape_targets
from sfpms.commands.status import _credentials_refused
from sfpms.embedded.broker import free_port

pytestmark = pytest.mark.integration


def test_status_names_the_system_whose_api_refuses_the_token() -> None:
    cdc = CdcMetrics()
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=cdc.registry)
    try:
        settings = Settings(cdc_metrics_port=port, sink_metrics_port=free_port())
        metrics.CREDENTIALS_REFUSED.labels("custompms").set(1)
        assert _credentials_refused(scrape_targets(settings)) == ["custompms"]
        metrics.CREDENTIALS_REFUSED.labels("custompms").set(0)
        assert _credentials_refused(scrape_targets(settings)) == []
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
