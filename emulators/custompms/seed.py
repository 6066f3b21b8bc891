"""Deterministic demo data: 10 customers, 20 projects, 100 tasks, written by actor "seed".

The same `random.Random(7)` gives the same records (not the same timestamps) on every run,
so a demo or benchmark starts from a known state.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from emulators.custompms.config import SEED_ACTOR
from emulators.custompms.store import Store
from emulators.custompms.values import format_timestamp

CUSTOMERS: tuple[tuple[str, str, str, str], ...] = (
    # name, kind, city, country
    ("Northwind Holdings", "organization", "Seattle", "US"),
    ("Northwind Retail", "division", "Portland", "US"),
    ("Northwind Logistics", "division", "Tacoma", "US"),
    ("Acme Engineering", "company", "Denver", "US"),
    ("Globex Manufacturing", "company", "Chicago", "US"),
    ("Initech Software", "company", "Austin", "US"),
    ("Umbrella Health", "company", "Boston", "US"),
    ("Stark Energy", "company", "Toronto", "CA"),
    ("Wayne Foundation", "company", "Gotham", "US"),
    ("Tyrell Biotech", "company", "Hamburg", "DE"),
)
PROJECT_TOPICS = ("CRM rollout", "Data migration", "Website relaunch", "ERP upgrade", "Audit")
TASK_VERBS = ("Draft", "Review", "Approve", "Test", "Deploy", "Document", "Plan", "Migrate")
TASK_OBJECTS = ("requirements", "budget", "schema", "pipeline", "release", "runbook", "training")
PEOPLE = ("alice", "bob", "carol", "dave", "erin", "frank", None)
PROJECT_STATUSES = ("planned", "active", "active", "on_hold", "completed", "cancelled")
TASK_STATUSES = ("todo", "todo", "in_progress", "blocked", "done")
PRIORITIES = ("low", "medium", "medium", "high")
EPOCH = date(2025, 1, 6)


def seed(store: Store, rng: random.Random) -> dict[str, int]:
    """Create the demo records; returns how many of each."""
    customer_ids = [
        store.create("customers", data, SEED_ACTOR).record["id"] for data in _customers()
    ]
    project_ids = []
    for number in range(1, 21):
        project = _project(rng, number, rng.choice(customer_ids))
        project_ids.append(store.create("projects", project, SEED_ACTOR).record["id"])
    for number in range(1, 101):
        store.create("tasks", _task(rng, number, rng.choice(project_ids)), SEED_ACTOR)
    return {"customers": len(customer_ids), "projects": len(project_ids), "tasks": 100}


def _customers() -> list[dict[str, Any]]:
    records = []
    for name, kind, city, country in CUSTOMERS:
        slug = name.lower().replace(" ", "-")
        records.append(
            {
                "name": name,
                "kind": kind,
                "email": f"contact@{slug}.example",
                "phone": "+1 555 0100",
                "contact_name": f"{name.split()[0]} Contact",
                "address": {"street": "1 Main Street", "city": city, "country": country},
                "locale": "en_US",
                "time_zone": "UTC",
            }
        )
    return records


def _project(rng: random.Random, number: int, customer_id: str) -> dict[str, Any]:
    start = EPOCH + timedelta(days=rng.randrange(0, 180))
    return {
        "name": f"{rng.choice(PROJECT_TOPICS)} #{number}",
        "description": f"Seeded project {number}.",
        "status": rng.choice(PROJECT_STATUSES),
        "priority": rng.choice(PRIORITIES),
        "start_date": start.isoformat(),
        "due_date": (start + timedelta(days=rng.randrange(14, 120))).isoformat(),
        "customer_id": customer_id,
        "owner": rng.choice(PEOPLE),
    }


def _task(rng: random.Random, number: int, project_id: str) -> dict[str, Any]:
    status = rng.choice(TASK_STATUSES)
    due = EPOCH + timedelta(days=rng.randrange(0, 240))
    completed = None
    if status == "done":
        midnight = datetime.combine(due, datetime.min.time(), UTC)
        moment = midnight - timedelta(hours=rng.randrange(48))
        completed = format_timestamp(moment)
    return {
        "project_id": project_id,
        "title": f"{rng.choice(TASK_VERBS)} {rng.choice(TASK_OBJECTS)} ({number})",
        "status": status,
        "priority": rng.choice(PRIORITIES),
        "due_date": due.isoformat(),
        "assignee": rng.choice(PEOPLE),
        "completed_at": completed,
    }
