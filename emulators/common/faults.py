"""Fault injection for the emulators, outside the real API paths.

`POST /__emulator__/faults` with a JSON `FaultConfig` sets faults, `GET` shows them and
`DELETE` clears them. Faults apply only to requests whose path starts with one of
`path_prefixes` (default: every API path), never to `/__emulator__/` itself.

Per matching request, in this order: the added latency; then with probability `drop_rate`
the connection is closed without a response; with `rate_limit_rate` a 429 with Retry-After;
with `error_rate` a `error_status` (5xx); with `drop_after_apply_rate` the request is carried
out (committed) and then the connection is closed before the response, so the client
cannot tell whether its write happened. All of these happen before the request reaches the
API except the last. `record_lock_rate` is per record, not per request: the emulated API
asks `draw_record_lock()` for each record of a batch write (Salesforce's sObject
Collections answer UNABLE_TO_LOCK_ROW for that record). Draws come from one seeded RNG so
a test run is repeatable.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pydantic import BaseModel, Field

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ADMIN_PREFIX = "/__emulator__"


class FaultConfig(BaseModel):
    """What to inject; all off by default."""

    latency_ms: float = Field(0.0, ge=0)
    latency_jitter_ms: float = Field(0.0, ge=0)
    error_rate: float = Field(0.0, ge=0, le=1)
    error_status: int = Field(503, ge=500, le=599)
    rate_limit_rate: float = Field(0.0, ge=0, le=1)
    retry_after_s: int = Field(1, ge=0)
    drop_rate: float = Field(0.0, ge=0, le=1)
    drop_after_apply_rate: float = Field(0.0, ge=0, le=1)
    record_lock_rate: float = Field(0.0, ge=0, le=1)
    path_prefixes: list[str] = Field(default_factory=list)
    seed: int | None = None


class DroppedConnection(Exception):
    """Raised inside the ASGI app after a partial response so the server drops the connection."""


class FaultInjector:
    """Holds the current fault config and decides, per request, what to inject."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.config = FaultConfig()
        self._rng = random.Random()
        self.injected: dict[str, int] = {
            "latency": 0,
            "error": 0,
            "rate_limit": 0,
            "drop": 0,
            "drop_after_apply": 0,
            "record_lock": 0,
        }

    def set(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)
            self.injected = dict.fromkeys(self.injected, 0)

    def applies_to(self, path: str) -> bool:
        if path.startswith(ADMIN_PREFIX):
            return False
        prefixes = self.config.path_prefixes
        return not prefixes or any(path.startswith(p) for p in prefixes)

    def draw(self) -> tuple[float, str | None]:
        """(latency seconds, outcome): None, 'drop', 'rate_limit', 'error', 'drop_after_apply'."""
        with self._lock:
            cfg = self.config
            latency = cfg.latency_ms
            if cfg.latency_jitter_ms:
                latency += self._rng.uniform(0, cfg.latency_jitter_ms)
            if latency:
                self.injected["latency"] += 1
            outcome: str | None = None
            roll = self._rng.random()
            if roll < cfg.drop_rate:
                outcome = "drop"
            elif roll < cfg.drop_rate + cfg.rate_limit_rate:
                outcome = "rate_limit"
            elif roll < cfg.drop_rate + cfg.rate_limit_rate + cfg.error_rate:
                outcome = "error"
            elif roll < (
                cfg.drop_rate + cfg.rate_limit_rate + cfg.error_rate + cfg.drop_after_apply_rate
            ):
                outcome = "drop_after_apply"
            if outcome:
                self.injected[outcome] += 1
            return latency / 1000.0, outcome

    def draw_record_lock(self, path: str) -> bool:
        """Whether one record of a batch write at `path` fails as if its row were locked."""
        if not self.applies_to(path):
            return False
        with self._lock:
            rate = self.config.record_lock_rate
            if not rate or self._rng.random() >= rate:
                return False
            self.injected["record_lock"] += 1
            return True


class FaultMiddleware:
    """ASGI middleware applying a `FaultInjector`.

    `error_body` builds the JSON body of injected errors in the emulated API's own error
    shape: it gets (status, message) and returns bytes.
    """

    def __init__(
        self,
        app: ASGIApp,
        injector: FaultInjector,
        error_body: Callable[[int, str], bytes],
    ) -> None:
        self.app = app
        self.injector = injector
        self.error_body = error_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.injector.applies_to(scope["path"]):
            await self.app(scope, receive, send)
            return
        latency, outcome = self.injector.draw()
        if latency:
            await asyncio.sleep(latency)
        if outcome == "drop":
            await _drop(send)
        if outcome == "drop_after_apply":
            # Run the request to completion (its writes commit), throw the response away.
            async def discard(message: Message) -> None:
                return None

            await self.app(scope, receive, discard)
            await _drop(send, after_apply=True)
        if outcome == "rate_limit":
            retry = str(self.injector.config.retry_after_s)
            await _respond(send, 429, self.error_body(429, "Too many requests"), retry)
            return
        if outcome == "error":
            status = self.injector.config.error_status
            await _respond(send, status, self.error_body(status, "Injected server error"))
            return
        await self.app(scope, receive, send)


async def _drop(send: Send, *, after_apply: bool = False) -> None:
    # Start a response that promises a body, then abort: the server closes the connection
    # mid-response and the client sees it dropped (no status, no body).
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1024")]}
    )
    when = "after the request was applied" if after_apply else "before the request was applied"
    raise DroppedConnection(f"fault injection: connection dropped {when}")


async def _respond(send: Send, status: int, body: bytes, retry_after: str | None = None) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", retry_after.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
