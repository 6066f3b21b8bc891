"""The API budget as `sfpms status` shows it, read from the CDC's and sinks' /metrics.

Each process that calls Salesforce exports `sfpms_api_budget_paused`, `..._reserve` and the
org's usage (`sfpms_api_limit_used`/`_max`, from `Sforce-Limit-Info`). The budget is per
org, so one paused process means the sync's share is spent for all of them.
"""

from __future__ import annotations

from typing import Any

from foundation.settings import Settings
from sfpms.observe.scrape import Scraped, scrape

PAUSED = "paused: API budget"


def scrape_targets(settings: Settings) -> dict[str, Scraped]:
    """The /metrics of the processes that call Salesforce (the CDC and the sinks), each
    scraped once (a process that does not answer has its `error` set)."""
    return {
        "cdc": scrape(f"http://127.0.0.1:{settings.cdc_metrics_port}/metrics"),
        "sinks": scrape(f"http://127.0.0.1:{settings.sink_metrics_port}/metrics"),
    }


def budget_from(scrapes: dict[str, Scraped]) -> dict[str, dict[str, Any]]:
    """Per system: state (`paused: API budget`, `ok`, or `unknown` when no process said),
    the org's usage and limit, the calls reserved, and which processes are paused (pure)."""
    systems: dict[str, dict[str, Any]] = {}
    for name, scraped in scrapes.items():
        if scraped.error is not None:
            continue
        for metric, labels, value in scraped.api:
            system = dict(labels).get("system")
            if system is None:
                continue
            row = systems.setdefault(
                system,
                {"state": "ok", "used": None, "limit": None, "reserve": None, "paused_in": []},
            )
            if metric == "sfpms_api_budget_paused" and value >= 1:
                row["state"] = PAUSED
                row["paused_in"].append(name)
            elif metric == "sfpms_api_budget_reserve":
                row["reserve"] = int(value)
            elif metric == "sfpms_api_limit_used":
                row["used"] = max(int(value), row["used"] or 0)
            elif metric == "sfpms_api_limit_max":
                row["limit"] = int(value)
    return systems or {"salesforce": {"state": "unknown"}}


def describe(budget: dict[str, dict[str, Any]]) -> list[str]:
    """One line per system for the status table's footer."""
    lines = []
    for system, row in budget.items():
        usage = ""
        if row.get("used") is not None and row.get("limit"):
            usage = f" (org usage {row['used']:,} of {row['limit']:,}"
            usage += f", {row['reserve']:,} reserved)" if row.get("reserve") is not None else ")"
        where = f" in {', '.join(row['paused_in'])}" if row.get("paused_in") else ""
        lines.append(f"{system} API budget: {row['state']}{where}{usage}")
    return lines
