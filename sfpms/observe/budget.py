"""The API limits panel: per system, calls used of the allowance, the reserve the sync
leaves to others, and whether the sync is paused, as figures and as a sentence.

Built from the `sfpms_api_*` samples the dashboard scraped (sfpms/observe/scrape.py). The
same system can be reported by several processes (CDC and the sinks both see Salesforce's
`Sforce-Limit-Info`); the highest `used` is the freshest, so it wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sfpms.observe.scrape import Scraped

NAMES = {"salesforce": "Salesforce", "custompms": "Custompms"}


@dataclass(frozen=True, slots=True)
class ApiBudget:
    """What one system's API allowance looks like now (None: nobody reported it)."""

    system: str
    used: float | None
    limit: float | None
    reserve: float | None
    paused: bool

    @property
    def share(self) -> float | None:
        if self.used is None or not self.limit:
            return None
        return self.used / self.limit

    @property
    def reserve_share(self) -> float | None:
        if self.reserve is None or not self.limit:
            return None
        return self.reserve / self.limit

    def words(self) -> str:
        """One sentence for people, e.g. "Salesforce: 159 of 15,000 API calls used today"."""
        name = NAMES.get(self.system, self.system)
        if self.used is None or not self.limit:
            text = f"{name}: no allowance reported yet"
        else:
            share = self.used / self.limit
            text = (
                f"{name}: {self.used:,.0f} of {self.limit:,.0f} API calls used today ({share:.1%})"
            )
            if self.reserve:
                stop = self.limit - self.reserve
                text += (
                    f"; {self.reserve:,.0f} kept in reserve for other integrations, so the sync "
                    f"pauses at {stop:,.0f} ({max(stop - self.used, 0):,.0f} calls left for it)"
                )
        if self.paused:
            text += (
                ". PAUSED: the sync's budget is spent; it resumes by itself when the "
                "allowance renews"
            )
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "used": self.used,
            "limit": self.limit,
            "reserve": self.reserve,
            "paused": self.paused,
            "share": self.share,
            "reserve_share": self.reserve_share,
            "words": self.words(),
        }


def api_budgets(scrapes: Iterable[Scraped]) -> list[ApiBudget]:
    """One budget per system that any target reported a figure for, by system name."""
    figures: dict[str, dict[str, float]] = {}
    for scraped in scrapes:
        for name, labels, value in scraped.api:
            system = dict(labels).get("system")
            if system is None:
                continue
            mine = figures.setdefault(system, {})
            mine[name] = max(value, mine.get(name, value))
    budgets = []
    for system, found in sorted(figures.items()):
        budgets.append(
            ApiBudget(
                system=system,
                used=found.get("sfpms_api_limit_used"),
                limit=found.get("sfpms_api_limit_max"),
                reserve=found.get("sfpms_api_budget_reserve"),
                paused=bool(found.get("sfpms_api_budget_paused")),
            )
        )
    return budgets
