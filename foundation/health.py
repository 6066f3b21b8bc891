"""Health of a process: `/healthz` (alive) and `/readyz` (its broker and its APIs answer).

Every long-running component serves both: compose healthchecks, Kubernetes probes and
`sfpms status` read them. A readiness check is a named callable that raises (or returns
False) when its dependency does not answer; results are cached for a few seconds so a
probe every second costs one metadata request and one HTTP request per dependency, not
one per probe. `/readyz` answers 200 with every check's verdict, or 503 naming the check
that failed and why, e.g. `{"ready": false, "checks": {"broker": "no broker at ..."}}`.
Check details never carry credentials: they name hosts and ports only.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

OK = "ok"
#: How long a verdict is reused. Probes run every few seconds; a dependency that dropped
#: shows within this much more.
CACHE_S = 5.0
TIMEOUT_S = 2.0

Check = Callable[[], None]


class NotReady(Exception):
    """A dependency did not answer; the message says which and where."""


def broker_check(client_config: Mapping[str, Any], timeout: float = TIMEOUT_S) -> Check:
    """A metadata request to the brokers in `client_config` (librdkafka settings).

    The probe's own client logs nothing (log_level 0): the component's real clients already
    report their connection errors, and a probe must not add one line per probe.
    """
    conf = {**client_config, "socket.timeout.ms": int(timeout * 1000), "log_level": 0}
    bootstrap = str(client_config.get("bootstrap.servers", "?"))

    def check() -> None:
        from confluent_kafka.admin import AdminClient

        try:
            AdminClient(conf).list_topics(timeout=timeout)
        except Exception as exc:
            raise NotReady(f"no broker at {bootstrap}") from exc

    return check


Login = Callable[[], tuple[str, str] | None]


def http_check(
    what: str,
    url: str,
    *,
    verify: str | bool = True,
    timeout: float = TIMEOUT_S,
    login: Login | None = None,
) -> Check:
    """Any HTTP answer from `url` (below 500) counts: the server is there and serving.

    With `login` (called at each check, so credentials written after start-up count), the
    request carries HTTP basic credentials and a 401/403 is not ready: the component could
    reach the server but not use it.
    """

    def check() -> None:
        credentials = login() if login is not None else None
        try:
            status = httpx.get(url, timeout=timeout, verify=verify, auth=credentials).status_code
        except httpx.HTTPError as exc:
            raise NotReady(f"no {what} at {_origin(url)} ({type(exc).__name__})") from exc
        if status >= 500:
            raise NotReady(f"{what} at {_origin(url)} answers HTTP {status}")
        if login is not None and status in (401, 403):
            given = "refuses the configured credentials" if credentials else "needs credentials"
            raise NotReady(f"{what} at {_origin(url)} {given} (HTTP {status})")

    return check


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")


@dataclass
class Readiness:
    """Named checks with cached verdicts; thread-safe."""

    checks: dict[str, Check]
    cache_s: float = CACHE_S

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._verdicts: dict[str, tuple[float, str]] = {}

    def verdicts(self) -> dict[str, str]:
        """Per check: "ok" or what is wrong."""
        now = time.monotonic()
        result: dict[str, str] = {}
        for name, check in self.checks.items():
            with self._lock:
                cached = self._verdicts.get(name)
            if cached is not None and now - cached[0] < self.cache_s:
                result[name] = cached[1]
                continue
            try:
                check()
                verdict = OK
            except Exception as exc:
                verdict = str(exc) or type(exc).__name__
            with self._lock:
                self._verdicts[name] = (time.monotonic(), verdict)
            result[name] = verdict
        return result

    def report(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body) for `/readyz`."""
        verdicts = self.verdicts()
        ready = all(v == OK for v in verdicts.values())
        return (200 if ready else 503), {"ready": ready, "checks": verdicts}


def alive() -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) for `/healthz`: the process answers, nothing more."""
    return 200, {"status": "ok"}


def combine(*parts: Iterable[tuple[str, Check]]) -> dict[str, Check]:
    return {name: check for part in parts for name, check in part}


def json_body(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True).encode()


def _basic(credentials: Any) -> tuple[str, str] | None:
    """(user, password) for httpx from Settings.registry_credentials() (a SecretStr pair)."""
    if credentials is None:
        return None
    user, secret = credentials
    return str(user), secret.get_secret_value()


def dependency_checks(
    settings: Any,
    *,
    broker: bool = True,
    registry: bool = False,
    salesforce: bool = False,
    custompms: bool = False,
) -> dict[str, Check]:
    """The checks of a component that talks to these dependencies (`settings`: Settings)."""
    checks: dict[str, Check] = {}
    if broker:
        checks["broker"] = broker_check(settings.kafka_client_config())
    if registry:
        checks["registry"] = http_check(
            "schema registry",
            f"{settings.registry_url()}/subjects",
            login=lambda: _basic(settings.registry_credentials()),
        )
    if salesforce:
        checks["salesforce"] = http_check(
            "Salesforce",
            f"{settings.salesforce_base_url()}/services/data/",
            verify=settings.salesforce_verify(),
        )
    if custompms:
        checks["custompms"] = http_check(
            "Custompms API", f"{settings.custompms_base_url()}/openapi.json"
        )
    return checks
