"""Run sink workers for one or both systems until a signal stops them."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Mapping
from contextlib import AsyncExitStack, suppress

from connectors.custompms.client import CustompmsClient
from connectors.salesforce.client import SalesforceClient
from connectors.sinks.custompms_target import CustompmsTarget
from connectors.sinks.salesforce_target import SalesforceTarget
from connectors.sinks.worker import SinkWorker, Target
from foundation import metrics
from foundation.settings import Settings, SinkSystemSettings


async def run_sinks(
    settings: Settings,
    systems: tuple[str, ...],
    options: Mapping[str, SinkSystemSettings] | None = None,
    stop: asyncio.Event | None = None,
    instance_id: str | None = None,
) -> None:
    """Run one SinkWorker per system; SIGINT/SIGTERM (or `stop`) ends them cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError, RuntimeError):  # not the main thread
            loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        workers = []
        for system in systems:
            metrics.declare_system(system)
            target: Target
            if system == "salesforce":
                sf = await stack.enter_async_context(SalesforceClient(settings))
                target = SalesforceTarget(sf, conditional=settings.salesforce_conditional_updates)
            else:
                pms = await stack.enter_async_context(CustompmsClient(settings))
                target = CustompmsTarget(pms)
            chosen = (options or {}).get(system) or settings.sinks.for_system(system)
            workers.append(SinkWorker(settings, system, target, chosen, instance_id))
        await asyncio.gather(*(w.run(stop) for w in workers))
