"""The health server every component runs: /healthz, /readyz with named checks, /metrics."""

from __future__ import annotations

import httpx
from prometheus_client import CollectorRegistry, Counter

from foundation import metrics
from foundation.health import NotReady, Readiness, broker_check, http_check
from sfpms.embedded.broker import free_port


def _serve(readiness: Readiness | None) -> tuple[str, object]:
    registry = CollectorRegistry()
    Counter("sfpms_probe_test", "a counter", registry=registry).inc()
    port = free_port()
    stop = metrics.serve(port, "127.0.0.1", registry=registry, readiness=readiness)
    return f"http://127.0.0.1:{port}", stop


def test_healthz_answers_while_readyz_names_the_dependency_that_is_missing() -> None:
    def broken() -> None:
        raise NotReady("no broker at 127.0.0.1:1")

    url, stop = _serve(Readiness({"broker": broken, "registry": lambda: None}))
    try:
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 503
        assert ready.json() == {
            "ready": False,
            "checks": {"broker": "no broker at 127.0.0.1:1", "registry": "ok"},
        }
        assert "sfpms_probe_test_total 1.0" in httpx.get(f"{url}/metrics").text
    finally:
        stop()  # type: ignore[operator]


def test_readyz_is_200_when_every_check_passes() -> None:
    url, stop = _serve(Readiness({"registry": lambda: None}))
    try:
        response = httpx.get(f"{url}/readyz")
        assert response.status_code == 200
        assert response.json() == {"ready": True, "checks": {"registry": "ok"}}
    finally:
        stop()  # type: ignore[operator]


def test_verdicts_are_cached_so_probes_do_not_hammer_dependencies() -> None:
    calls: list[int] = []
    readiness = Readiness({"api": lambda: calls.append(1)}, cache_s=60)
    for _ in range(5):
        readiness.report()
    assert len(calls) == 1
    fresh = Readiness({"api": lambda: calls.append(1)}, cache_s=0)
    fresh.report()
    fresh.report()
    assert len(calls) == 3


def test_a_missing_broker_and_a_missing_api_are_named_with_their_address() -> None:
    port = free_port()
    readiness = Readiness(
        {
            "broker": broker_check({"bootstrap.servers": f"127.0.0.1:{port}"}, timeout=0.5),
            "custompms": http_check("Custompms API", f"http://127.0.0.1:{port}/openapi.json"),
        }
    )
    verdicts = readiness.verdicts()
    assert verdicts["broker"] == f"no broker at 127.0.0.1:{port}"
    assert verdicts["custompms"] == f"no Custompms API at http://127.0.0.1:{port} (ConnectError)"


def test_the_registry_check_logs_in_and_is_not_ready_when_the_login_is_refused() -> None:
    from pydantic import SecretStr

    from sfpms.registry.app import Registry, create_registry_app
    from sfpms.registry.auth import BasicAuth
    from sfpms.registry.log import MemoryLog
    from tests.support.servers import serve_in_thread

    auth = BasicAuth("sync", SecretStr("the-registry-password"))
    with serve_in_thread(create_registry_app(Registry(MemoryLog()), auth=auth)) as server:
        url = f"{server.url}/subjects"
        good = http_check("schema registry", url, login=lambda: ("sync", "the-registry-password"))
        good()
        for login, words in (
            (lambda: ("sync", "wrong-password"), "refuses the configured credentials"),
            (lambda: None, "needs credentials"),
        ):
            check = http_check("schema registry", url, login=login)
            try:
                check()
            except NotReady as exc:
                assert words in str(exc) and "HTTP 401" in str(exc)
                assert "wrong-password" not in str(exc)
            else:
                raise AssertionError(f"a refused login counted as ready ({words})")
        http_check("schema registry", url)()  # without a login, any answer means "serving"


def test_the_cdc_metrics_name_each_family_once_though_it_is_in_two_registries() -> None:
    from connectors.cdc.metrics import CdcMetrics

    port = free_port()
    stop = CdcMetrics().serve(port, "127.0.0.1")
    try:
        metrics.CREDENTIALS_REFUSED.labels("custompms").set(1)
        text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        types = [line for line in text.splitlines() if line.startswith("# TYPE ")]
        assert len(types) == len(set(types)), "a family exposed twice fails Prometheus's scrape"
        assert 'sfpms_api_credentials_refused{system="custompms"} 1.0' in text
    finally:
        metrics.CREDENTIALS_REFUSED.labels("custompms").set(0)
        stop()
