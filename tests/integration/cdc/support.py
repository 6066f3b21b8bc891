"""Real pieces for the CDC integration tests: both emulators over HTTP(S) on 127.0.0.1, the CDC
producers in a thread (or an `sfpms cdc run` process), and a reader of the change topics."""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from connectors.cdc import CaptureSettings, CdcMetrics, run_cdc
from emulators.custompms import CustompmsEmulatorConfig
from emulators.custompms import create_app as create_custompms_app
from emulators.salesforce import SalesforceEmulatorConfig, ensure_certificate
from emulators.salesforce import create_app as create_salesforce_app
from foundation.kafka import topics as t
from foundation.kafka.serde import TopicCodec, registry_client
from foundation.settings import Settings
from tests.support.servers import ThreadedServer, serve_in_thread

API = "/services/data/v60.0"
ADMIN = ("admin@sfpms.local", "sfpms-local-password")
ALICE = ("alice@sfpms.local", "sfpms-alice")
SYNC_TOKEN = "sfpms-local-token"
ALICE_TOKEN = "alice-pms-token"

#: Fast polling for tests (Task polled too); the defaults are for production.
FAST = CaptureSettings(
    poll_interval_s=0.2,
    idle_poll_interval_s=0.5,
    overlap_s=0.5,
    batch_size=50,
    feed_page_size=100,
    max_backoff_s=1.0,
    task_capture="poll",
)
#: Task through Change Data Capture over the Pub/Sub API, the others polled fast.
STREAMED = FAST.model_copy(update={"task_capture": "pubsub", "pubsub_linger_s": 0.02})


@dataclass
class SalesforceEmulator:
    """The Salesforce emulator, driven over its REST API as a person or as the sync."""

    server: ThreadedServer
    cert: Path
    http: httpx.Client = field(init=False)
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        trust = ssl.create_default_context(cafile=str(self.cert))
        self.http = httpx.Client(base_url=self.server.url, verify=trust, timeout=15)

    def token(self, user: tuple[str, str]) -> str:
        if user not in self.tokens:
            self.tokens[user] = self.login(user)
        return self.tokens[user]

    def login(self, user: tuple[str, str]) -> str:
        response = self.http.post(
            "/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": "sfpms-local",
                "client_secret": "sfpms-local-secret",
                "username": user[0],
                "password": user[1],
            },
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def api(
        self, method: str, path: str, user: tuple[str, str] = ALICE, **kwargs: Any
    ) -> httpx.Response:
        """A REST call as `user`; the admin user writes as the sync (client=sfpms)."""
        headers = {"Authorization": f"Bearer {self.token(user)}"}
        if user == ADMIN:
            headers["Sforce-Call-Options"] = "client=sfpms"
        headers.update(kwargs.pop("headers", None) or {})
        response = self.http.request(method, f"{API}{path}", headers=headers, **kwargs)
        if response.status_code == 401:  # tokens expired on purpose by a test
            self.tokens[user] = self.login(user)
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
            response = self.http.request(method, f"{API}{path}", headers=headers, **kwargs)
        assert response.status_code < 300, response.text
        return response

    def create(self, sobject: str, values: dict[str, Any], user: tuple[str, str] = ALICE) -> str:
        return str(self.api("POST", f"/sobjects/{sobject}", user, json=values).json()["id"])

    def update(
        self, sobject: str, record_id: str, values: dict[str, Any], user: tuple[str, str] = ALICE
    ) -> None:
        self.api("PATCH", f"/sobjects/{sobject}/{record_id}", user, json=values)

    def delete(self, sobject: str, record_id: str, user: tuple[str, str] = ALICE) -> None:
        self.api("DELETE", f"/sobjects/{sobject}/{record_id}", user)

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"/__emulator__{path}", json=body)
        response.raise_for_status()
        return response.json()

    def user_id(self, who: str) -> str:
        info = self.admin("GET", "/info")
        return str(info[f"{who}_user_id"])

    @property
    def pubsub_endpoint(self) -> str:
        """127.0.0.1:<port> of the Pub/Sub API (the emulator picked a free port)."""
        return f"127.0.0.1:{self.admin('GET', '/pubsub')['port']}"


@dataclass
class CustompmsEmulator:
    """The Custompms emulator, driven as the sync (token sfpms) or as alice."""

    server: ThreadedServer

    def client(self, token: str = ALICE_TOKEN) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.server.url}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=15,
        )

    def call(self, method: str, path: str, token: str = ALICE_TOKEN, **kwargs: Any) -> Any:
        with self.client(token) as http:
            response = http.request(method, path, **kwargs)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(
            method, f"{self.server.url}/__emulator__{path}", json=body, timeout=10
        )
        response.raise_for_status()
        return response.json()


@dataclass
class Stack:
    """Settings (broker, registry, both emulators) and the two running emulators."""

    settings: Settings
    sf: SalesforceEmulator
    pms: CustompmsEmulator


@contextmanager
def running_emulators(
    cert_dir: Path, **sf_config: Any
) -> Iterator[tuple[SalesforceEmulator, CustompmsEmulator]]:
    """Both emulators; the Salesforce one serves its Pub/Sub API on a free port (TLS)."""
    cert, key = ensure_certificate(cert_dir)
    config = {
        "seed": False,
        "pubsub_port": 0,
        "pubsub_certfile": cert,
        "pubsub_keyfile": key,
        "pubsub_keepalive_s": 0.5,
        **sf_config,
    }
    sf_app = create_salesforce_app(SalesforceEmulatorConfig(**config))
    pms_app = create_custompms_app(CustompmsEmulatorConfig(seed=False))
    with (
        serve_in_thread(sf_app, certfile=cert, keyfile=key) as sf_server,
        serve_in_thread(pms_app) as pms_server,
    ):
        sf = SalesforceEmulator(sf_server, cert)
        pms = CustompmsEmulator(pms_server)
        pms.admin("POST", "/tokens", {"token": ALICE_TOKEN, "client": "alice"})
        try:
            yield sf, pms
        finally:
            sf.http.close()


class CdcThread:
    """`run_cdc` on its own event loop in a thread, stopped like SIGTERM would stop it."""

    def __init__(
        self,
        settings: Settings,
        options: CaptureSettings = FAST,
        sources: tuple[str, ...] = ("salesforce", "custompms"),
        metrics_port: int | None = None,
    ) -> None:
        self.settings = settings
        self.options = options
        self.sources = sources
        self.metrics_port = metrics_port
        self.metrics = CdcMetrics()
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._started.set()
            await run_cdc(
                self.settings,
                self.options,
                sources=self.sources,
                stop=self._stop,
                metrics=self.metrics,
                metrics_port=self.metrics_port,
            )

        try:
            asyncio.run(main())
        except BaseException as exc:
            self.error = exc
        finally:
            self._started.set()

    def __enter__(self) -> CdcThread:
        self._thread.start()
        self._started.wait(30)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, timeout: float = 30.0) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the CDC did not stop"
        if self.error is not None:
            raise AssertionError(f"the CDC failed: {self.error!r}") from self.error

    def polls(self, source: str, entity: str) -> float:
        """How many poll cycles of one entity finished (snapshots excluded)."""
        value = self.metrics.registry.get_sample_value(
            "sfpms_cdc_poll_seconds_count", {"source": source, "entity": entity}
        )
        return value or 0.0

    def streaming(self, entity: str = "Task") -> bool:
        """Whether the Change Data Capture subscription of `entity` has answered."""
        value = self.metrics.registry.get_sample_value(
            "sfpms_cdc_streaming", {"source": "salesforce", "entity": entity}
        )
        return bool(value)

    def wait_streaming(self, timeout: float = 20.0) -> CdcThread:
        """Wait until every source finished its start (snapshot) and polled (or, for Task
        through Change Data Capture, its subscription answered) once."""
        probes = {"salesforce": ("salesforce", "Task"), "custompms": ("custompms", "feed")}
        if self.options.custompms_mode == "poll":
            probes["custompms"] = ("custompms", "task")
        pubsub = self.options.task_capture == "pubsub"
        if pubsub:
            probes["salesforce"] = ("salesforce", self.options.polled_objects()[0])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            polled = all(self.polls(*probes[source]) >= 1 for source in self.sources)
            if polled and (not pubsub or "salesforce" not in self.sources or self.streaming()):
                return self
            time.sleep(0.05)
        raise AssertionError(f"the CDC did not start streaming within {timeout}s")

    def check(self) -> None:
        """Fail fast when the CDC thread died."""
        if self.error is not None:
            raise AssertionError(f"the CDC failed: {self.error!r}") from self.error


@dataclass(frozen=True)
class Record:
    """One consumed message, decoded."""

    topic: str
    partition: int
    key: bytes | None
    value: dict[str, Any]


class TopicReader:
    """Reads (prefixed) catalogue topics from the beginning, decoding with the registry."""

    def __init__(self, settings: Settings, *topics: str) -> None:
        self.settings = settings
        registry = registry_client(settings)
        self.codecs = {
            settings.topic(name): TopicCodec(settings, registry, name) for name in topics
        }
        self.consumer = Consumer(settings.consumer_config(f"cdc-test-{id(self)}"))
        metadata = self.consumer.list_topics(timeout=15).topics
        assignment = [
            TopicPartition(name, partition, OFFSET_BEGINNING)
            for name in self.codecs
            for partition in metadata[name].partitions
        ]
        self.consumer.assign(assignment)
        self.records: list[Record] = []

    def __enter__(self) -> TopicReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.consumer.close()

    def drain(self, seconds: float = 0.2) -> list[Record]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            msg = self.consumer.poll(0.05)
            if msg is None or msg.error():
                continue
            topic, partition, value = msg.topic(), msg.partition(), msg.value()
            assert topic is not None and partition is not None and value is not None
            self.records.append(
                Record(topic, partition, msg.key(), self.codecs[topic].decode(value))
            )
        return self.records

    def wait_for(
        self,
        check: Callable[[list[Record]], bool],
        *,
        what: str,
        timeout: float = 20.0,
        cdc: CdcThread | None = None,
    ) -> list[Record]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.drain(0.1)
            if cdc is not None:
                cdc.check()
            if check(self.records):
                return self.records
        raise AssertionError(f"timed out waiting for {what}; consumed: {self.summary()}")

    def summary(self) -> list[tuple[str, str, str]]:
        return [
            (r.topic.split(".", 1)[-1], r.value.get("op", "?"), (r.key or b"").decode())
            for r in self.records
        ]

    def envelopes(self, record_id: str | None = None) -> list[dict[str, Any]]:
        """Decoded envelopes (optionally of one record), in consumption order."""
        return [
            r.value
            for r in self.records
            if "op" in r.value and (record_id is None or r.value["source"]["id"] == record_id)
        ]

    def ops(self, record_id: str) -> list[str]:
        return [e["op"] for e in self.envelopes(record_id)]


def change_topics() -> list[str]:
    return [s.name for s in t.catalogue() if s.name.endswith(".changes")]
