"""Start-up data: the org, the two users, the global division; optionally demo records.

The demo data (`--seed`) is drawn from `random.Random(42)`, so every run produces the same
records; due dates are placed around the day the emulator is seeded. Demo records are
created as Alice (a human user), not the integration user, so the sync treats them as
human edits rather than as echoes of its own writes.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from emulators.salesforce import timefmt
from emulators.salesforce.accounts import Accounts
from emulators.salesforce.config import ADMIN_USER, ALICE_USER, SalesforceEmulatorConfig
from emulators.salesforce.schema import DIVISION, ORGANIZATION
from emulators.salesforce.store import Caller, Op, Store

_COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka")
_SUBJECTS = (
    "Call {c} about renewal",
    "Send quote to {c}",
    "Follow up with {c} on invoice",
    "Prepare kickoff deck for {c}",
    "Review {c} contract redlines",
    "Schedule onboarding with {c}",
    "Email {c} the project plan",
    "Book site visit at {c}",
    "Update {c} account notes",
    "Check {c} support escalation",
)
_STATUSES = (
    ("Not Started", 35),
    ("In Progress", 25),
    ("Completed", 25),
    ("Waiting on someone else", 10),
    ("Deferred", 5),
)
_PRIORITIES = (("High", 20), ("Normal", 60), ("Low", 20))
_TYPES = (("Call", 30), ("Email", 30), ("Meeting", 20), ("Other", 10), (None, 10))


def _pick(rng: random.Random, weighted: tuple[tuple[Any, int], ...]) -> Any:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def ensure_identities(
    store: Store, accounts: Accounts, config: SalesforceEmulatorConfig
) -> tuple[str, str, str]:
    """(org id, admin user id, alice user id), creating what is missing."""
    admin_name, admin_pw, admin_first, admin_last = ADMIN_USER
    admin_id = accounts.add_user(admin_name, admin_pw, first_name=admin_first, last_name=admin_last)
    alice_name, alice_pw, alice_first, alice_last = ALICE_USER
    alice_id = accounts.add_user(
        alice_name, alice_pw, first_name=alice_first, last_name=alice_last, created_by=admin_id
    )
    org_id = store.meta("org_id")
    if org_id is None:
        with store.lock:
            org_id = store.minter.mint(ORGANIZATION.key_prefix)
            body = {
                "Id": org_id,
                "Name": config.org_name,
                "Street": "1 Market Street",
                "City": "San Francisco",
                "State": "CA",
                "PostalCode": "94105",
                "Country": "United States",
                "Phone": "+1 415 555 0100",
                "PrimaryContact": "SFPMS Integration",
                "DefaultLocaleSidKey": "en_US",
                "TimeZoneSidKey": "America/Los_Angeles",
                "LanguageLocaleKey": "en_US",
                "OrganizationType": "Developer Edition",
                "IsSandbox": False,
                "InstanceName": "EMU1",
            }
            result = store.apply(
                [Op("create", "Organization", body=body)], Caller(admin_id), admin=True
            )[0]
            assert result.success, result.errors
            global_division = {
                "Name": "Global",
                "IsActive": True,
                "IsGlobalDivision": True,
                "SortOrder": 0,
            }
            store.apply(
                [Op("create", "Division", body=global_division)], Caller(admin_id), admin=True
            )
            store.set_meta("org_id", org_id)
    return org_id, admin_id, alice_id


def seed_demo(store: Store, alice_id: str, admin_id: str, tasks: int) -> None:
    """Divisions and Tasks for a demo, once per database."""
    if store.meta("seeded") is not None:
        return
    rng = random.Random(42)
    human = Caller(alice_id, "seed")
    divisions = [
        Op("create", DIVISION.name, body={"Name": name, "SortOrder": n})
        for n, name in enumerate(("North America", "EMEA", "APAC"), start=1)
    ]
    today = datetime.now(UTC).date()
    ops = []
    for n in range(tasks):
        subject = rng.choice(_SUBJECTS).format(c=rng.choice(_COMPANIES))
        body: dict[str, Any] = {
            "Subject": subject,
            "Status": _pick(rng, _STATUSES),
            "Priority": _pick(rng, _PRIORITIES),
            "ActivityDate": (today + timedelta(days=rng.randint(-45, 90))).isoformat(),
            "OwnerId": alice_id if rng.random() < 0.8 else admin_id,
        }
        kind = _pick(rng, _TYPES)
        if kind:
            body["Type"] = kind
        if rng.random() < 0.4:
            body["Description"] = f"Seed task #{n + 1}: {subject.lower()}."
        ops.append(Op("create", "Task", body=body))
    for batch in (divisions, ops):
        results = store.apply(batch, human)
        assert all(r.success for r in results), [r.errors for r in results if not r.success]
    store.set_meta("seeded", timefmt.format_datetime(timefmt.now()))
