"""`sfpms up` serves the emulator's Pub/Sub API; `sfpms status` shows it and the API budget."""

from __future__ import annotations

from foundation.settings import Settings
from sfpms.budget_status import PAUSED, budget_from, describe
from sfpms.observe.scrape import parse
from sfpms.stack import components


def test_the_embedded_stack_serves_the_pubsub_api_from_the_salesforce_emulator() -> None:
    parts = {c.name: c for c in components(Settings(salesforce_pubsub_port=27443))}
    emulator, pubsub = parts["salesforce-emulator"], parts["salesforce-pubsub"]
    assert emulator.argv[-2:] == ["--pubsub-port", "27443"]
    assert (pubsub.host, pubsub.port, pubsub.url) == (
        "salesforce-emulator",
        27443,
        "grpcs://127.0.0.1:27443",
    )
    names = list(parts)
    assert names.index("salesforce-pubsub") < names.index("cdc")  # up before the capture
    assert Settings().salesforce_pubsub() == "127.0.0.1:17443"


def test_a_real_org_gets_no_emulator_and_salesforces_pubsub_endpoint() -> None:
    settings = Settings(salesforce_url="https://acme.my.salesforce.com")
    assert {"salesforce-emulator", "salesforce-pubsub"}.isdisjoint(
        c.name for c in components(settings)
    )
    assert settings.salesforce_pubsub() == "api.pubsub.salesforce.com:7443"


CDC = """
sfpms_api_budget_paused{system="salesforce"} 1.0
sfpms_api_budget_reserve{system="salesforce"} 400.0
sfpms_api_limit_used{system="salesforce"} 1601.0
sfpms_api_limit_max{system="salesforce"} 2000.0
"""
SINKS = """
sfpms_api_budget_paused{system="salesforce"} 0.0
sfpms_api_limit_used{system="salesforce"} 1599.0
"""


def test_status_shows_a_pause_where_any_process_is_paused() -> None:
    budget = budget_from({"cdc": parse("cdc", CDC), "sinks": parse("sinks", SINKS)})
    assert budget["salesforce"] == {
        "state": PAUSED,
        "used": 1601,
        "limit": 2000,
        "reserve": 400,
        "paused_in": ["cdc"],
    }
    assert describe(budget) == [
        "salesforce API budget: paused: API budget in cdc (org usage 1,601 of 2,000, 400 reserved)"
    ]


def test_status_says_unknown_when_no_process_reports_a_budget() -> None:
    assert budget_from({}) == {"salesforce": {"state": "unknown"}}
