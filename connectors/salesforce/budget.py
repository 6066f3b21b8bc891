"""One daily Salesforce API budget for everything the sync does: capture, sinks, backfill.

Salesforce counts every REST call of the org (every integration, every user) against one
allowance over a rolling 24 hours and reports the org-wide count on every response
(`Sforce-Limit-Info: api-usage=used/limit`). The sync keeps a *reserve* of that allowance
(`SFPMS_SALESFORCE_API_RESERVE`, default 20 %) for the org's other integrations:

- below `share - pace_band x limit` calls go out at once;
- closer to the share every call waits a little first (linearly up to `pace_max_s` at the
  edge), so the sync slows down instead of running into the wall;
- at the share (or when Salesforce answers REQUEST_LIMIT_EXCEEDED) the budget is *paused*:
  calls are refused at once with `ApiBudgetPaused` (a retriable error, no call spent), the
  metric `sfpms_api_budget_paused{system="salesforce"}` is 1 and one warning is logged.
  Once per `probe_s` a refused call reads `/limits` instead; when the rolling window has
  freed enough, the budget resumes by itself.

The budget lives below `SalesforceSession.request`, the one door every Salesforce call
passes, and one budget is shared by every session of a process (`budget_for`). Each
process reads the org-wide usage from the headers, so the reserve holds per org however
many processes (CDC, sinks, `sfpms backfill`) run. Nothing is lost while paused: callers
retry the same work later (the sinks hold their commands, the capture re-reads).
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from connectors.salesforce.errors import SalesforceRetriableError
from connectors.salesforce.types import ApiUsage
from foundation import metrics
from foundation.settings import Settings

log = logging.getLogger("connectors.salesforce")

SYSTEM = "salesforce"


@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    """The reserve and how the sync paces itself near it."""

    reserve: float = 0.2
    pace_band: float = 0.1
    pace_max_s: float = 2.0
    probe_s: float = 60.0

    def __post_init__(self) -> None:
        if not 0 <= self.reserve < 1:
            raise ValueError("the API reserve must be a fraction in [0, 1)")
        if self.pace_band < 0 or self.pace_max_s < 0 or self.probe_s <= 0:
            raise ValueError("pace_band and pace_max_s must be >= 0, probe_s > 0")

    @classmethod
    def from_settings(cls, settings: Settings) -> BudgetPolicy:
        return cls(
            reserve=settings.salesforce_api_reserve,
            pace_band=settings.salesforce_api_pace_band,
            pace_max_s=settings.salesforce_api_pace_max_s,
            probe_s=settings.salesforce_api_probe_s,
        )

    def reserved(self, limit: int) -> int:
        """Calls of a `limit` the sync leaves for others (rounded up)."""
        return math.ceil(limit * self.reserve)

    def share(self, limit: int) -> int:
        """Calls of the rolling window the sync may use (with everyone else's)."""
        return limit - self.reserved(limit)


@dataclass(frozen=True, slots=True)
class Admission:
    """What the budget says about the next call: go after `delay` seconds, or paused."""

    paused: bool
    delay: float = 0.0


def admission(policy: BudgetPolicy, usage: ApiUsage | None) -> Admission:
    """The decision for one call at `usage` (pure; see the module docstring)."""
    if usage is None or usage.limit <= 0:
        return Admission(False)
    share = policy.share(usage.limit)
    if usage.used >= share:
        return Admission(True)
    band = usage.limit * policy.pace_band
    start = share - band
    if band <= 0 or usage.used <= start:
        return Admission(False)
    return Admission(False, policy.pace_max_s * (usage.used - start) / band)


class ApiBudgetPaused(SalesforceRetriableError):
    """The sync's share of the org's daily API allowance is spent: try again later.

    It reports itself as REQUEST_LIMIT_EXCEEDED (it is the sync's own request limit), so
    every caller that already waits out Salesforce's limit without counting it as a failed
    attempt (the sinks) treats the pause the same way; `budget_paused` tells them apart.
    """

    budget_paused = True

    def __init__(self, message: str, *, retry_after: float, record: str | None = None) -> None:
        super().__init__(
            message,
            status=None,
            error_code="REQUEST_LIMIT_EXCEEDED",
            retry_after=retry_after,
            record=record,
        )
        #: Read by callers that tell Salesforce's own Retry-After from a default.
        self.server_retry_after: float | None = retry_after


Probe = Callable[[], Awaitable[None]]


class ApiBudget:
    """The budget state of one org in one process (thread-safe; async admission)."""

    def __init__(
        self,
        policy: BudgetPolicy | None = None,
        *,
        system: str = SYSTEM,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy or BudgetPolicy()
        self.system = system
        self.usage: ApiUsage | None = None
        self.paused = False
        self.paused_since: float | None = None
        self.pauses = 0
        self._clock = clock
        self._last_probe = -math.inf
        self._lock = threading.Lock()
        self._probing = False

    # -- what Salesforce told us ----------------------------------------------------------

    def observe(self, usage: ApiUsage) -> None:
        """Usage from a response header (any process's calls count: it is org-wide)."""
        with self._lock:
            self.usage = usage
            metrics.API_BUDGET_RESERVE.labels(self.system).set(self.policy.reserved(usage.limit))
            decision = admission(self.policy, usage)
        if decision.paused:
            self._pause()
        else:
            self._resume()

    def refused(self) -> None:
        """Salesforce answered REQUEST_LIMIT_EXCEEDED: the whole allowance is spent."""
        with self._lock:
            limit = self.usage.limit if self.usage else 0
            self.usage = ApiUsage(max(limit, self.usage.used if self.usage else 0), limit)
        self._pause(by_salesforce=True)

    # -- state changes --------------------------------------------------------------------

    def _pause(self, by_salesforce: bool = False) -> None:
        with self._lock:
            if self.paused:
                return
            self.paused = True
            self.paused_since = self._clock()
            self._last_probe = self.paused_since  # the answer that paused us is fresh
            self.pauses += 1
            usage = self.usage
        metrics.API_BUDGET_PAUSED.labels(self.system).set(1)
        why = (
            "Salesforce refused a call with REQUEST_LIMIT_EXCEEDED"
            if by_salesforce
            else "the sync's share of the daily allowance is used"
        )
        log.warning(
            "paused: API budget — %s (org usage %s of %s calls in the rolling 24 hours, "
            "%d reserved for other integrations); capture, sinks and backfill wait and "
            "resume by themselves when usage falls below %s",
            why,
            usage.used if usage else "?",
            usage.limit if usage else "?",
            self.policy.reserved(usage.limit) if usage else 0,
            self.policy.share(usage.limit) if usage else "the share",
        )

    def _resume(self) -> None:
        with self._lock:
            if not self.paused:
                return
            self.paused = False
            since = self.paused_since or self._clock()
            self.paused_since = None
            usage = self.usage
        metrics.API_BUDGET_PAUSED.labels(self.system).set(0)
        log.warning(
            "resumed: API budget — org usage %s of %s; paused for %.0fs",
            usage.used if usage else "?",
            usage.limit if usage else "?",
            self._clock() - since,
        )

    # -- admission ------------------------------------------------------------------------

    def error(self, action: str, record: str | None = None) -> ApiBudgetPaused:
        usage = self.usage
        wait = max(self._last_probe + self.policy.probe_s - self._clock(), 1.0)
        wait = min(wait, self.policy.probe_s)
        spent = f"{usage.used} of {usage.limit}" if usage else "all"
        return ApiBudgetPaused(
            f"paused: API budget — Salesforce {action} not sent: {spent} daily API calls are "
            f"used and {self.policy.reserve:.0%} is reserved for the org's other "
            f"integrations; it is retried when the rolling window frees calls",
            retry_after=wait,
            record=record,
        )

    async def admit(self, probe: Probe, action: str, record: str | None = None) -> None:
        """Let one call go (after its pacing delay), or raise `ApiBudgetPaused`.

        While paused, at most one call per `probe_s` runs `probe` (a `/limits` read whose
        header updates the usage) and goes ahead if the window has freed calls."""
        decision = admission(self.policy, self.usage)
        if decision.paused:
            self._pause()
            if not await self._probe(probe):
                raise self.error(action, record)
            decision = admission(self.policy, self.usage)
            if decision.paused:
                raise self.error(action, record)
        elif self.paused:
            self._resume()
        if decision.delay > 0:
            await asyncio.sleep(decision.delay)

    async def _probe(self, probe: Probe) -> bool:
        """Run the probe if one is due and none is running; whether it ran."""
        with self._lock:
            now = self._clock()
            if self._probing or now - self._last_probe < self.policy.probe_s:
                return False
            self._probing = True
            self._last_probe = now
        try:
            await probe()
        finally:
            with self._lock:
                self._probing = False
        return True


_BUDGETS: dict[tuple[str, str], ApiBudget] = {}
_BUDGETS_LOCK = threading.Lock()


def budget_for(settings: Settings) -> ApiBudget:
    """The process's budget for the org `settings` name (shared by all its sessions)."""
    key = (settings.salesforce_base_url().rstrip("/"), settings.salesforce_client_id)
    policy = BudgetPolicy.from_settings(settings)
    with _BUDGETS_LOCK:
        budget = _BUDGETS.get(key)
        if budget is None or budget.policy != policy:
            budget = _BUDGETS[key] = ApiBudget(policy)
        return budget
