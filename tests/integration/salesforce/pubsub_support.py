"""The Salesforce emulator with its Pub/Sub API (gRPC over TLS) on free 127.0.0.1 ports."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastavro
import grpc

from connectors.salesforce import RetryPolicy, SalesforceClient
from connectors.salesforce.pubsub import PubSubClient, SessionCredentials
from connectors.salesforce.pubsub.proto import pubsub_api_pb2 as pb2
from connectors.salesforce.pubsub.proto import pubsub_api_pb2_grpc as pb2_grpc
from connectors.salesforce.session import SalesforceSession
from emulators.salesforce.context import Emulator
from tests.integration.salesforce.support import RunningSalesforce, running_salesforce

TOPIC = "/data/TaskChangeEvent"
FAST = RetryPolicy(max_attempts=5, base_delay_s=0.05, max_delay_s=0.2)


@dataclass
class RunningPubSub:
    sf: RunningSalesforce

    @property
    def state(self) -> Emulator:
        app: Any = self.sf.server.server.config.app
        state: Emulator = app.state.emulator
        return state

    @property
    def port(self) -> int:
        return int(self.sf.admin("GET", "/pubsub")["port"])

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def metadata(self, token: str | None = None) -> tuple[tuple[str, str], ...]:
        return (
            ("accesstoken", token or self.sf.token()),
            ("instanceurl", self.sf.url),
            ("tenantid", self.state.org_id),
        )

    @asynccontextmanager
    async def stub(self) -> AsyncIterator[Any]:
        """A raw `eventbus.v1.PubSub` stub over TLS (trusting the emulator's certificate)."""
        credentials = grpc.ssl_channel_credentials(self.sf.cert.read_bytes())
        async with grpc.aio.secure_channel(self.endpoint, credentials) as channel:
            yield pb2_grpc.PubSubStub(channel)

    @asynccontextmanager
    async def client(self, **settings: Any) -> AsyncIterator[PubSubClient]:
        """The product's Pub/Sub client on its own OAuth session."""
        session = SalesforceSession(self.sf.settings(**settings), client_name="sfpms")
        client = PubSubClient(
            SessionCredentials(session),
            ca_bundle=self.sf.settings().salesforce_verify(),
            endpoint=self.endpoint,
            retry=FAST,
        )
        try:
            yield client
        finally:
            await client.aclose()
            await session.aclose()

    def rest(self, client_name: str = "sfpms") -> SalesforceClient:
        """The product's REST client, writing as `client_name` (Sforce-Call-Options)."""
        return SalesforceClient(self.sf.settings(client_name=client_name), retry=FAST)

    def decode(self, schema_json: str, payload: bytes) -> dict[str, Any]:
        schema = fastavro.parse_schema(json.loads(schema_json))
        record = fastavro.schemaless_reader(io.BytesIO(payload), schema, None)
        assert isinstance(record, dict)
        return record

    def set_faults(self, **faults: int) -> None:
        self.sf.admin("POST", "/pubsub/faults", json=faults)

    def restart_grpc(self) -> None:
        """Stop the gRPC server and start it again on the same port (clients see UNAVAILABLE)."""
        pubsub = self.state.pubsub
        assert pubsub is not None and pubsub.server is not None
        port = pubsub.server.port
        pubsub.stop()
        pubsub.port = port
        pubsub.start()


def fetch(
    num: int, preset: Any = pb2.ReplayPreset.LATEST, replay: bytes = b"", topic: str = TOPIC
) -> Any:
    return pb2.FetchRequest(
        topic_name=topic, replay_preset=preset, replay_id=replay, num_requested=num
    )


class Requests:
    """A FetchRequest stream a test drives: `put()` sends, `close()` half-closes."""

    def __init__(self, *first: Any) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        for request in first:
            self.queue.put_nowait(request)

    def put(self, request: Any) -> None:
        self.queue.put_nowait(request)

    def close(self) -> None:
        self.queue.put_nowait(None)

    async def __aiter__(self) -> AsyncIterator[Any]:
        while True:
            request = await self.queue.get()
            if request is None:
                return
            yield request


_END = object()


class Responses:
    """A Subscribe call's responses, pumped into a queue so a test may wait with timeouts
    (cancelling a wait never touches the call itself)."""

    def __init__(self, call: Any) -> None:
        self.call = call
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.task = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        try:
            async for response in self.call:
                self.queue.put_nowait(response)
        except grpc.aio.AioRpcError as exc:
            self.queue.put_nowait(exc)
        finally:
            self.queue.put_nowait(_END)

    async def next(self, timeout: float = 10.0) -> Any:
        """The next response; the call's error is raised; None when the stream ended."""
        item = await asyncio.wait_for(self.queue.get(), timeout)
        if item is _END:
            self.queue.put_nowait(_END)
            return None
        if isinstance(item, BaseException):
            raise item
        return item

    async def with_events(self, n: int, timeout: float = 10.0) -> list[Any]:
        """Responses until `n` events came (keepalives in between are skipped)."""
        got: list[Any] = []
        while sum(len(r.events) for r in got) < n:
            response = await self.next(timeout)
            assert response is not None, f"stream ended after {len(got)} event responses"
            if response.events:
                got.append(response)
        return got

    async def silent(self, seconds: float) -> bool:
        """True when nothing arrives for `seconds` (an arriving item is kept)."""
        try:
            item = await asyncio.wait_for(self.queue.get(), seconds)
        except TimeoutError:
            return True
        self.queue.put_nowait(item)  # only ever checked at the end of a phase
        return False

    async def close(self) -> None:
        self.call.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def take(stream: Any, n: int, timeout: float = 10.0) -> list[Any]:
    """The next `n` items of an async iterator, failing if they do not come in time."""
    items: list[Any] = []
    iterator = aiter(stream)

    async def collect() -> None:
        while len(items) < n:
            items.append(await anext(iterator))

    await asyncio.wait_for(collect(), timeout)
    return items


@contextmanager
def running_pubsub(cert_dir: Path, **config: Any) -> Iterator[RunningPubSub]:
    """An unseeded emulator serving REST and the Pub/Sub API (keepalive 0.5 s for tests)."""
    from emulators.salesforce import ensure_certificate

    cert, key = ensure_certificate(cert_dir)
    config = {
        "pubsub_port": 0,
        "pubsub_certfile": cert,
        "pubsub_keyfile": key,
        "pubsub_keepalive_s": 0.5,
        **config,
    }
    with running_salesforce(cert_dir, **config) as sf:
        yield RunningPubSub(sf)
