"""Lag history that survives a dashboard restart.

The sampler keeps chart points in memory. At start it reads them back, preferring
Prometheus when `SFPMS_PROMETHEUS_URL` is set (it scraped `sfpms_flow_lag` and the group
lag from this dashboard's /metrics all along, and keeps weeks), else the snapshot the
dashboard writes to its data directory after each poll (`<data dir>/dashboard/history.json`,
on the dashboard's volume). Either way a restart shows the last half hour, not an empty
chart. A source that cannot be read is logged and skipped: history is a convenience.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx

log = logging.getLogger(__name__)

#: series key prefix -> (lag query, lag-seconds query, label naming the series)
PROMETHEUS_SERIES = {
    "flow": ("sfpms_flow_lag", "sfpms_flow_lag_seconds", "flow"),
    "group": (
        "max by (group) (kafka_consumergroup_group_sum_lag)",
        "max by (group) (kafka_consumergroup_group_max_lag_seconds)",
        "group",
    ),
}
Points = dict[str, list[tuple[float, int, float | None]]]


def snapshot_path(data_dir: Path) -> Path:
    return data_dir / "dashboard" / "history.json"


def save_snapshot(path: Path, series: Mapping[str, Iterable[Any]]) -> None:
    """Write the series atomically (a crash mid-write leaves the previous snapshot)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    data = {key: [list(point) for point in points] for key, points in series.items()}
    temporary.write_text(json.dumps({"saved_at": time.time(), "series": data}))
    os.replace(temporary, path)


def load_snapshot(path: Path, since: float) -> Points:
    """Points newer than `since` from the snapshot file ({} when there is none)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    series: Points = {}
    for key, points in data.get("series", {}).items():
        kept = [(float(p[0]), int(p[1]), p[2]) for p in points if float(p[0]) >= since]
        if kept:
            series[key] = kept
    return series


def _range(url: str, query: str, start: float, end: float, step: float) -> list[Any]:
    response = httpx.get(
        f"{url.rstrip('/')}/api/v1/query_range",
        params={"query": query, "start": start, "end": end, "step": max(step, 1.0)},
        timeout=10,
    )
    response.raise_for_status()
    body = response.json()
    if body.get("status") != "success":
        raise ValueError(f"Prometheus answered {body.get('error', body)}")
    result: list[Any] = body["data"]["result"]
    return result


def load_prometheus(url: str, since: float, until: float, step: float) -> Points:
    """Chart points per series from Prometheus' range queries over [since, until]."""
    series: Points = {}
    for prefix, (lag_query, seconds_query, label) in PROMETHEUS_SERIES.items():
        lags = {
            r["metric"].get(label): r["values"] for r in _range(url, lag_query, since, until, step)
        }
        seconds = {
            r["metric"].get(label): dict(r["values"])
            for r in _range(url, seconds_query, since, until, step)
        }
        for name, values in lags.items():
            if name is None:
                continue
            by_time = seconds.get(name, {})
            points = []
            for at, value in values:
                raw = by_time.get(at)
                lag_s = None if raw is None or math.isnan(float(raw)) else float(raw)
                points.append((float(at), int(float(value)), lag_s))
            series[f"{prefix}:{name}"] = points
    return series


def load_history(
    data_dir: Path, prometheus_url: str | None, history_s: float, step: float
) -> tuple[Points, str]:
    """(points, where they came from) for the last `history_s` seconds."""
    now = time.time()
    if prometheus_url:
        try:
            return load_prometheus(prometheus_url, now - history_s, now, step), prometheus_url
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            log.warning(
                "lag history: Prometheus at %s unreadable (%s); using the snapshot",
                prometheus_url,
                type(exc).__name__,
            )
    path = snapshot_path(data_dir)
    return load_snapshot(path, now - history_s), str(path)
