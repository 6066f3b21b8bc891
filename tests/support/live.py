"""The whole product running for end-to-end tests.

Both emulators are real HTTP servers in this process (threads, 127.0.0.1); the registry too;
CDC, the engine worker(s) and the sink workers are real `python -m sfpms ...` processes
with the test's settings, started and stopped (or killed) by PID. People's edits go
through the emulators' APIs with people's credentials (Salesforce user alice, Custompms
client alice), so CDC tags them as persons' changes, not the sync's.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from foundation.kafka import topics as t
from foundation.kafka.admin import ensure_topics
from foundation.settings import Settings, settings_env
from sfpms.embedded.broker import free_port
from sfpms.embedded.process import ManagedProcess
from tests.integration.custompms.support import RunningEmulator, running_emulator
from tests.integration.salesforce.support import RunningSalesforce, running_salesforce
from tests.support.harness import HarnessSettings, unique_prefix
from tests.support.stack import EngineWorker, with_registry

T = TypeVar("T")
PERSON_TOKEN = "alice-pms-token"


def eventually(check: Callable[[], T | None], timeout: float = 60.0, what: str = "") -> T:
    """Poll `check` until it returns something truthy; AssertionError naming `what`."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what or check}")


@dataclass
class Live:
    """A running product and handles to both systems."""

    settings: Settings
    sf: RunningSalesforce
    pms: RunningEmulator
    log_dir: Path
    workers: list[EngineWorker] = field(default_factory=list)
    processes: dict[str, ManagedProcess] = field(default_factory=dict)

    # -- processes --------------------------------------------------------------------------
    def start_product(
        self, *, workers: int = 1, poll_interval: float = 0.3, metrics: bool = False
    ) -> None:
        """CDC, the engine worker(s) and the sinks, as `sfpms up` runs them."""
        settings = self.settings
        cdc_metrics = ["--metrics-port", str(settings.cdc_metrics_port)] if metrics else []
        sink_metrics = ["--metrics-port", str(settings.sink_metrics_port)] if metrics else []
        self.start_process(
            "cdc",
            "cdc",
            "run",
            "--poll-interval",
            str(poll_interval),
            "--overlap",
            "1",
            "--idle-poll-interval",
            "1",
            *cdc_metrics,
        )
        for index in range(workers):
            self.start_worker(f"worker-{index}")
        self.start_process(
            "sinks",
            "sink",
            "run",
            "--linger-ms",
            "20",
            "--instance-id",
            f"{settings.topic_prefix}sinks",
            *sink_metrics,
        )

    def start_process(self, name: str, *args: str) -> ManagedProcess:
        process = ManagedProcess(
            name=name,
            argv=[sys.executable, "-m", "sfpms", *args],
            log_path=self.log_dir / f"{name}.log",
            env={**os.environ, **settings_env(self.settings)},
        )
        process.start()
        self.processes[name] = process
        return process

    def start_worker(self, name: str = "worker", *extra: str) -> EngineWorker:
        """One `sfpms worker` (`extra`: more command-line options, e.g. --mapping)."""
        worker = EngineWorker(self.settings, self.log_dir, name, extra=extra)
        worker.start()
        self.workers.append(worker)
        return worker

    def logs(self) -> str:
        parts = []
        for path in sorted(self.log_dir.glob("*.log")):
            parts.append(f"== {path.name}\n{path.read_text(errors='replace')[-2500:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        for process in self.processes.values():
            process.stop(grace=15)

    # -- people -----------------------------------------------------------------------------
    def sf_person(self) -> Any:
        """simple-salesforce logged in as alice (a person, not the sync)."""
        return self.sf.simple(self.sf.alice_token())

    def sf_admin(self) -> Any:
        return self.sf.simple()

    def pms_person(self) -> httpx.Client:
        return self.pms.http(PERSON_TOKEN)

    # -- reading both systems ---------------------------------------------------------------
    def sf_records(self, sobject: str, where: str = "") -> list[dict[str, Any]]:
        fields = {
            "Task": "Id, Subject, Status, Priority, ActivityDate, Description, OwnerId, "
            "Custompms_Id__c, IsDeleted",
            "Division": "Id, Name, IsActive, Custompms_Id__c",
            "Organization": "Id, Name, Phone, City",
        }[sobject]
        query = f"SELECT {fields} FROM {sobject} {where}"  # noqa: S608 - test-built SOQL
        return list(self.sf_admin().query_all(query)["records"])

    def pms_records(self, resource: str, **params: Any) -> list[dict[str, Any]]:
        with self.pms.http() as api:
            items: list[dict[str, Any]] = []
            cursor = None
            while True:
                query = {"limit": 1000, **params, **({"cursor": cursor} if cursor else {})}
                page = api.get(f"/{resource}", params=query).json()
                items += page["items"]
                cursor = page.get("next_cursor")
                if not cursor:
                    return items

    def write_calls(self) -> tuple[int, int]:
        """API calls that write, so far (Salesforce, Custompms), from the emulators' stats."""

        def count(stats: dict[str, Any]) -> int:
            return sum(
                n
                for endpoint, n in stats["requests"].items()
                if endpoint.split()[0] in ("POST", "PATCH", "DELETE") and "oauth2" not in endpoint
            )

        sf_stats = self.sf.admin("GET", "/stats")
        return count(sf_stats), count(self.pms.stats())


def pubsub_config(tmp_path: Path) -> dict[str, Any]:
    """Salesforce emulator settings that serve its Pub/Sub API (TLS) on a free port."""
    from emulators.salesforce import ensure_certificate

    cert, key = ensure_certificate(tmp_path / "tls")
    return {
        "pubsub_port": 0,
        "pubsub_certfile": cert,
        "pubsub_keyfile": key,
        "pubsub_keepalive_s": 0.5,
    }


def pubsub_endpoint(sf: RunningSalesforce) -> str:
    """Where the emulator serves its Pub/Sub API (the CDC's Task capture)."""
    return f"127.0.0.1:{sf.admin('GET', '/pubsub')['port']}"


@contextmanager
def live_stack(
    kafka_bootstrap: str,
    tmp_path: Path,
    *,
    workers: int = 1,
    poll_interval: float = 0.3,
    sf_config: dict[str, Any] | None = None,
    pms_custom_fields: Any = None,
    settings: dict[str, Any] | None = None,
    start: bool = True,
) -> Iterator[Live]:
    """Everything running; stopped (by PID) at the end.

    `sf_config` goes to the Salesforce emulator (e.g. `custom_fields`), `pms_custom_fields`
    to the Custompms one, `settings` over the product's settings (e.g. `mapping_file`);
    with `start=False` only the emulators run until the test calls `start_product`.
    """
    harness = HarnessSettings()
    base = Settings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=unique_prefix("e2e"),
        partitions=4,
        data_dir=tmp_path / "sfpms",
        broker_engine=harness.test_broker,
        worker_web_port=free_port(),
    )
    ensure_topics(base, t.catalogue())
    with ExitStack() as stack:
        product = stack.enter_context(with_registry(base))
        sf_options = {**pubsub_config(tmp_path), **(sf_config or {})}
        sf = stack.enter_context(running_salesforce(tmp_path / "tls", **sf_options))
        pms = stack.enter_context(running_emulator(custom_fields=pms_custom_fields))
        pms.add_token(PERSON_TOKEN, "alice")
        product = product.model_copy(
            update={
                "salesforce_url": sf.url,
                "salesforce_ca_bundle": sf.cert,
                "salesforce_pubsub_endpoint": pubsub_endpoint(sf),
                "custompms_url": pms.url,
                **(settings or {}),
            }
        )
        live = Live(product, sf, pms, tmp_path / "logs")
        try:
            if start:
                live.start_product(workers=workers, poll_interval=poll_interval)
            yield live
        finally:
            live.stop()
