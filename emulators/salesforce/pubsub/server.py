"""Serving the Pub/Sub API: a grpc.aio server over TLS on 127.0.0.1, in its own thread.

The REST app starts it from its lifespan (so `sfpms emulate salesforce --pubsub-port N`
and every in-process test server get it with no extra step) and stops it at shutdown. It
runs its own event loop in a daemon thread rather than sharing uvicorn's: the REST side
may run on uvloop, and a separate loop keeps a slow stream from ever delaying a REST
request. Both sides share the store, accounts and stats, which are thread-safe.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import grpc

from emulators.common.stats import RequestStats
from emulators.salesforce.accounts import Accounts
from emulators.salesforce.config import SalesforceEmulatorConfig
from emulators.salesforce.pubsub.bus import ChangeEventBus
from emulators.salesforce.pubsub.proto import pubsub_api_pb2_grpc as pb2_grpc
from emulators.salesforce.pubsub.service import PubSubService, ServiceParts
from emulators.salesforce.pubsub.subscription import DeliveryAllocation, SubscribeOptions
from emulators.salesforce.store import Store

log = logging.getLogger(__name__)


class PubSubServer:
    """`eventbus.v1.PubSub` on 127.0.0.1:`port` (0: any free port, see `.port`)."""

    def __init__(self, parts: ServiceParts, port: int, certfile: Path, keyfile: Path) -> None:
        self.parts = parts
        self.port = port
        self._credentials = grpc.ssl_server_credentials(
            [(keyfile.read_bytes(), certfile.read_bytes())]
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._grace = 1.0
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="pubsub-grpc", daemon=True)

    def start(self, timeout: float = 15.0) -> None:
        self._thread.start()
        if not self._started.wait(timeout):
            raise TimeoutError(f"the Pub/Sub API server did not start within {timeout}s")
        if self._failure is not None:
            raise RuntimeError(
                f"the Pub/Sub API server could not listen on 127.0.0.1:{self.port}: "
                f"{self._failure}; choose another --pubsub-port"
            ) from self._failure

    def stop(self, grace: float = 1.0) -> None:
        """Stop serving: open streams get `grace` seconds, then are cancelled."""
        loop, stopping = self._loop, self._stopping
        if loop is None or stopping is None or not self._thread.is_alive():
            return
        self._grace = grace
        loop.call_soon_threadsafe(stopping.set)
        self._thread.join(timeout=grace + 10)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            # Streams still open after the grace period: cancel them and let them finish
            # on this loop, so none is left pending when it closes.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    async def _serve(self) -> None:
        try:
            server = grpc.aio.server()
            pb2_grpc.add_PubSubServicer_to_server(PubSubService(self.parts), server)
            self.port = server.add_secure_port(f"127.0.0.1:{self.port}", self._credentials)
            await server.start()
        except BaseException as exc:  # reported by start() in the caller's thread
            self._failure = exc
            self._started.set()
            return
        # The loop lives until stop(): server.stop() must run (and finish) on it.
        self._stopping = asyncio.Event()
        self._started.set()
        log.info("Pub/Sub API on 127.0.0.1:%d", self.port)
        await self._stopping.wait()
        await server.stop(self._grace)


@dataclass(slots=True)
class PubSub:
    """The emulator's event bus and, once the app has started, its gRPC server."""

    bus: ChangeEventBus
    parts: ServiceParts
    port: int
    certfile: Path
    keyfile: Path
    server: PubSubServer | None = None

    def start(self) -> PubSubServer:
        self.server = PubSubServer(self.parts, self.port, self.certfile, self.keyfile)
        self.server.start()
        return self.server

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


def build_pubsub(
    config: SalesforceEmulatorConfig,
    store: Store,
    accounts: Accounts,
    stats: RequestStats,
    org_id: str,
) -> PubSub | None:
    """The Pub/Sub parts for `config`, or None when `pubsub_port` is None (not served)."""
    if config.pubsub_port is None:
        return None
    if config.pubsub_certfile is None or config.pubsub_keyfile is None:
        raise ValueError(
            "the Pub/Sub API is served over TLS only (as Salesforce serves it): set "
            "pubsub_certfile and pubsub_keyfile (the emulator's cert.pem / key.pem)"
        )
    bus = ChangeEventBus(store, stats, retention_s=config.event_retention_s)
    parts = ServiceParts(
        bus=bus,
        accounts=accounts,
        stats=stats,
        org_id=org_id,
        options=SubscribeOptions(config.pubsub_keepalive_s, config.pubsub_idle_timeout_s),
        allocation=DeliveryAllocation(config.event_delivery_limit),
    )
    return PubSub(bus, parts, config.pubsub_port, config.pubsub_certfile, config.pubsub_keyfile)
