"""The live stack of tests/support/live.py, with the hooks the fault tests need.

Same pieces (both emulators in threads, the registry, CDC, engine worker(s) and sinks as
`python -m sfpms ...` processes, stopped by PID), plus:
- a `RequestRecorder` around each emulator app: when each request arrived, what it was
  (method, path, query, a digest of its body and credentials), its status and Retry-After,
  and when the answer left; so a test can see how clients behaved after a 429;
- the emulators' configuration (Custompms tokens, Salesforce options) and settings
  overrides (credentials, log level) chosen by the test.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators.common.faults import ASGIApp, Message, Receive, Scope, Send
from emulators.custompms import CustompmsEmulatorConfig
from emulators.custompms import create_app as create_pms_app
from emulators.custompms.config import DEFAULT_TOKENS
from emulators.salesforce import SalesforceEmulatorConfig, ensure_certificate
from emulators.salesforce import create_app as create_sf_app
from foundation.kafka import topics as t
from foundation.kafka.admin import ensure_topics
from foundation.settings import Settings
from sfpms.embedded.broker import free_port
from tests.faults.endstate import read_snapshot, wait_for_end_state
from tests.faults.people import TEST_HEADER, PmsPerson, SfPerson
from tests.faults.scale import scale
from tests.faults.workload import Workload
from tests.integration.custompms.support import RunningEmulator
from tests.integration.salesforce.support import RunningSalesforce
from tests.support.harness import HarnessSettings, unique_prefix
from tests.support.live import PERSON_TOKEN, Live, pubsub_config, pubsub_endpoint
from tests.support.servers import ThreadedServer, serve_in_thread
from tests.support.stack import with_registry


@dataclass(frozen=True, slots=True)
class Seen:
    """One request as an emulator saw it."""

    arrived: float
    answered: float
    key: str
    method: str
    path: str
    status: int
    retry_after: str | None
    by_test: bool


class RequestRecorder:
    """ASGI middleware recording every API request (admin routes excluded).

    The body is read up front and handed on unchanged, so requests the fault middleware
    answers without reading them (an injected 429) still get their digest."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[Seen] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/__emulator__"):
            await self.app(scope, receive, send)
            return
        arrived = time.monotonic()
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = bool(message.get("more_body"))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        headers = dict(scope["headers"])
        answer: dict[str, Any] = {"status": 0, "retry_after": None}

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = int(message["status"])
                answer["at"] = time.monotonic()
                answer["retry_after"] = dict(message.get("headers", [])).get(b"retry-after")
            await send(message)

        digest = hashlib.sha256(
            b"\x1f".join(
                [
                    scope["method"].encode(),
                    scope["path"].encode(),
                    scope.get("query_string", b""),
                    headers.get(b"authorization", b""),
                    body,
                ]
            )
        ).hexdigest()
        try:
            await self.app(scope, replay, watch)
        finally:
            retry = answer["retry_after"]
            seen = Seen(
                arrived=arrived,
                answered=float(answer.get("at", time.monotonic())),
                key=digest,
                method=scope["method"],
                path=scope["path"],
                status=int(answer["status"]),
                retry_after=retry.decode() if isinstance(retry, bytes) else None,
                by_test=TEST_HEADER.lower().encode() in headers,
            )
            with self._lock:
                self.seen.append(seen)

    def requests(self) -> list[Seen]:
        with self._lock:
            return list(self.seen)


@dataclass
class FaultStack:
    """A running product (`live`) and the test's handles on the emulators."""

    live: Live
    sf_app: Any
    pms_app: Any
    sf_recorder: RequestRecorder
    pms_recorder: RequestRecorder
    sf_client_secret: str | None = None
    people: list[Any] = field(default_factory=list)

    def sf_person(self) -> SfPerson:
        person = SfPerson(self.live.sf.url, self.live.sf.cert, client_secret=self.sf_client_secret)
        self.people.append(person)
        return person

    def pms_person(self) -> PmsPerson:
        person = PmsPerson(self.live.pms.url, PERSON_TOKEN)
        self.people.append(person)
        return person

    def workload(self, seed: str, prefix: str) -> Workload:
        """A seeded workload of two people (one per system), journalled in the log dir."""
        return Workload(
            random.Random(seed),
            self.sf_person(),
            self.pms_person(),
            prefix=prefix,
            journal=self.live.log_dir / "workload.txt",
            race_guard=scale().race_guard,
        )

    def settle(self, workload: Workload, timeout: float, context: str = "") -> None:
        """Wait until both systems hold exactly what the workload's people did; on timeout
        fail with `context` (what the test did to the product), the story and the logs."""
        wait_for_end_state(
            workload.groups,
            lambda: read_snapshot(workload.sf, workload.pms),
            self.live.write_calls,
            timeout=timeout,
            describe=lambda problems: "\n".join(
                [line for line in (context, workload.story(problems), self.live.logs()) if line]
            ),
        )

    def set_faults(self, **config: Any) -> None:
        """The same faults on both emulators (see emulators/common/faults.py)."""
        self.live.sf.admin("POST", "/faults", json=config)
        self.live.pms.set_faults(**config)

    def clear_faults(self) -> None:
        self.live.sf.admin("DELETE", "/faults")
        self.live.pms.clear_faults()


def base_settings(kafka_bootstrap: str, tmp_path: Path) -> Settings:
    """Settings of a fresh deployment on `kafka_bootstrap` (own topic prefix and data dir)."""
    harness = HarnessSettings()
    return Settings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=unique_prefix("f"),
        partitions=4,
        data_dir=tmp_path / "sfpms",
        broker_engine=harness.test_broker,
        worker_web_port=free_port(),
        cdc_metrics_port=free_port(),
        sink_metrics_port=free_port(),
    )


@contextmanager
def fault_stack(
    kafka_bootstrap: str,
    tmp_path: Path,
    *,
    workers: int = 1,
    poll_interval: float = 0.3,
    pms_tokens: Mapping[str, str] | None = None,
    sf_config: Mapping[str, Any] | None = None,
    settings_update: Mapping[str, Any] | None = None,
    sf_client_secret: str | None = None,
    start_services: bool = True,
) -> Iterator[FaultStack]:
    """Everything running (CDC, `workers` engine workers, sinks); stopped by PID at the end."""
    base = base_settings(kafka_bootstrap, tmp_path)
    ensure_topics(base, t.catalogue())
    with ExitStack() as stack:
        settings = stack.enter_context(with_registry(base))
        cert, key = ensure_certificate(tmp_path / "tls")
        sf_config = {"seed": False, **pubsub_config(tmp_path), **(sf_config or {})}
        sf_app = create_sf_app(SalesforceEmulatorConfig(**sf_config))
        tokens = pms_tokens if pms_tokens is not None else dict(DEFAULT_TOKENS)
        pms_app = create_pms_app(CustompmsEmulatorConfig(tokens=tokens))
        sf_recorder, pms_recorder = RequestRecorder(sf_app), RequestRecorder(pms_app)
        sf_server = stack.enter_context(serve_in_thread(sf_recorder, certfile=cert, keyfile=key))
        pms_server = ThreadedServer(pms_recorder)
        pms_server.start()
        stack.callback(pms_server.stop)
        sf = RunningSalesforce(sf_server, cert)
        stack.callback(sf.http.close)
        pms = RunningEmulator(pms_server)
        pms.add_token(PERSON_TOKEN, "alice")
        settings = settings.model_copy(
            update={
                "salesforce_url": sf.url,
                "salesforce_ca_bundle": cert,
                "salesforce_pubsub_endpoint": pubsub_endpoint(sf),
                "custompms_url": pms.url,
                **(settings_update or {}),
            }
        )
        live = Live(settings, sf, pms, tmp_path / "logs")
        running = FaultStack(
            live, sf_app, pms_app, sf_recorder, pms_recorder, sf_client_secret=sf_client_secret
        )
        try:
            if start_services:
                start_product(live, workers=workers, poll_interval=poll_interval)
            yield running
        finally:
            live.stop()
            for person in running.people:
                person.close()


def start_product(live: Live, *, workers: int = 1, poll_interval: float = 0.3) -> None:
    """CDC, the engine worker(s) and the sinks, with /metrics (the tests read them)."""
    live.start_product(workers=workers, poll_interval=poll_interval, metrics=True)
