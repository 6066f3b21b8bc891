"""The engine's one commit order, per agent batch: outputs, then state, then offsets.

1. Every record the batch produces (write commands, link events, forwards, dead letters) is
   sent and acknowledged by the broker.
2. Only then is the batch's state written to the Faust tables (the overlay is applied).
3. Faust commits the consumed offsets later still, after it flushed the changelog.

A crash before 2 replays the batch against the old state and produces the same outputs
again (harmless: every write is idempotent); a crash after 2 but before 3 replays it against
the new state, which produces nothing new. The opposite order lost writes under SIGKILL
(docs/architecture.md). If the outputs cannot be produced, the batch's state is discarded and
the worker stops at once, before Faust acknowledges the batch (its `take_events` acks a
batch as soon as the agent leaves it, even by an exception), so the batch is processed again
when the worker restarts; `sfpms up`, compose and Kubernetes restart it.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, Protocol

from foundation import killpoints
from streams.engine.topology import Outgoing

log = logging.getLogger(__name__)

#: Exit status of a worker that stopped because its outputs could not be produced
#: (EX_TEMPFAIL: try again).
EXIT_OUTPUT_FAILED = 75


#: Attempts at producing one batch's outputs, each with a fresh producer after the first.
ATTEMPTS = 3


class Output(Protocol):
    def send(self, records: Sequence[Outgoing]) -> None: ...

    async def flush(self) -> None: ...

    def renew(self) -> None: ...


class Overlay(Protocol):
    def apply(self) -> None: ...

    def discard(self) -> None: ...


def stop_process(exc: BaseException) -> NoReturn:
    """Stop the worker now, without unwinding into Faust (which would ack the batch)."""
    log.critical(
        "engine outputs could not be produced (%s: %s); stopping before the batch is "
        "acknowledged, so it is processed again when the worker restarts",
        type(exc).__name__,
        exc,
    )
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stderr.flush()
    os._exit(EXIT_OUTPUT_FAILED)


class Checkpoint:
    """Owns the commit order of one agent's batches (see the module docstring)."""

    def __init__(self, output: Output, stop: Callable[[BaseException], NoReturn] = stop_process):
        self.output = output
        self.stop = stop

    async def commit(self, records: Sequence[Outgoing], overlay: Overlay) -> None:
        """Produce `records` and wait for the broker, then store the batch's state. A failed
        attempt is repeated with a fresh producer (outputs are idempotent); after the last,
        the state is discarded and the worker stops."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                self.output.send(records)
                await self.output.flush()
                break
            except Exception as exc:
                if attempt == ATTEMPTS:
                    overlay.discard()
                    self.stop(exc)
                log.warning(
                    "engine outputs not produced (%s: %s); new producer, sending again (%d/%d)",
                    type(exc).__name__,
                    exc,
                    attempt,
                    ATTEMPTS,
                )
                self.output.renew()
        killpoints.reached("engine.after_flush")
        overlay.apply()
        killpoints.reached("engine.after_store")
