"""Request statistics per endpoint, so a benchmark or test can count API calls.

`GET /__emulator__/stats` returns `{"total": N, "requests": {"GET /path/{param}": n, ...},
"statuses": {"200": n, ...}}`; `DELETE` resets. Endpoints are named by their route template,
so `/sobjects/Task/00T...` and `/sobjects/Task/00T...2` count under one name.

Non-HTTP traffic (the Salesforce emulator's Pub/Sub API over gRPC) is counted by name in
`"counters"` (`{"pubsub.rpc.Subscribe": n, "pubsub.events.delivered": n, ...}`), apart from
the HTTP figures, so REST call counts stay what a REST client caused.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from emulators.common.faults import ADMIN_PREFIX, ASGIApp, Message, Receive, Scope, Send


class RequestStats:
    """Thread-safe counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.counters: Counter[str] = Counter()

    def count(self, name: str, n: int = 1) -> None:
        """Add `n` to the named non-HTTP counter."""
        with self._lock:
            self.counters[name] += n

    def record(self, endpoint: str, status: int) -> None:
        with self._lock:
            self.requests[endpoint] += 1
            self.statuses[str(status)] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self.requests.values()),
                "requests": dict(self.requests),
                "statuses": dict(self.statuses),
                "counters": dict(self.counters),
            }

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.statuses.clear()
            self.counters.clear()


class StatsMiddleware:
    """Counts every non-admin request by method and route template, with its status.

    Place it outside the fault middleware so injected faults are counted too (a client
    that retries makes more calls, and the figures should show it).
    """

    def __init__(self, app: ASGIApp, stats: RequestStats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        status_holder: list[int] = [0]

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or scope["path"]
            self.stats.record(f"{scope['method']} {template}", status_holder[0])
