"""No configured secret ever leaves the process that holds it.

A full live stack runs with distinct long random secrets: the Salesforce connected app's
client secret, the integration user's password, the Custompms API token, the dashboard
token and the schema registry's basic-auth password. It goes through failures: CDC started
with wrong credentials (three ways), faults on both APIs, every Salesforce session
expiring, the Custompms token revoked for a while (CDC and sinks stop, and are started
again once it is back, as `sfpms up` would), malformed records and unmappable values (dead
letters). Then every log file of every process, every page and JSON answer of the
dashboard, every dead letter and every record on every topic of the deployment is searched
for each secret value, the wrong ones included: none may appear.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from pydantic import SecretStr

from emulators.custompms.config import DEFAULT_TOKENS
from emulators.salesforce import oauth
from foundation.kafka import topics as t
from foundation.settings import Settings, settings_env
from sfpms.deadletters import read_dead_letters
from sfpms.embedded.broker import free_port
from sfpms.embedded.process import ManagedProcess
from tests.faults.people import PmsPerson, SfPerson
from tests.faults.stack import FaultStack, fault_stack, start_product
from tests.support.live import PERSON_TOKEN, eventually

pytestmark = pytest.mark.integration

SYNC_USER = "sync-integration@sfpms.local"
SECRET_NAMES = (
    "salesforce_client_secret",
    "salesforce_password",
    "custompms_token",
    "dashboard_token",
    "wrong_client_secret",
    "wrong_password",
    "wrong_custompms_token",
)
DASHBOARD_PATHS = (
    "/",
    "/healthz",
    "/metrics",
    "/api/overview",
    "/api/flows",
    "/api/groups",
    "/api/history",
    "/api/deadletters",
)


def _secret() -> str:
    # Letters and digits only: a leak shows verbatim, not URL- or JSON-escaped.
    return secrets.token_hex(24) + secrets.token_hex(8).upper()


@pytest.fixture
def values() -> dict[str, str]:
    return {name: _secret() for name in SECRET_NAMES}


@pytest.fixture
def stack(
    kafka_bootstrap: str, tmp_path: Path, values: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FaultStack, dict[str, str]]]:
    # The emulator's connected app has one fixed secret; it is read at request time.
    monkeypatch.setattr(oauth, "CLIENT_SECRET", values["salesforce_client_secret"])
    tokens = {values["custompms_token"]: "sfpms", **DEFAULT_TOKENS}
    tokens.pop("sfpms-local-token")
    update = {
        "salesforce_client_secret": SecretStr(values["salesforce_client_secret"]),
        "salesforce_username": SYNC_USER,
        "salesforce_password": SecretStr(values["salesforce_password"]),
        "custompms_token": SecretStr(values["custompms_token"]),
        "dashboard_token": SecretStr(values["dashboard_token"]),
        "dashboard_port": free_port(),
        "log_level": "DEBUG",
    }
    with fault_stack(
        kafka_bootstrap,
        tmp_path,
        pms_tokens=tokens,
        settings_update=update,
        sf_client_secret=values["salesforce_client_secret"],
        start_services=False,
    ) as running:
        running.live.sf.admin(
            "POST",
            "/users",
            json={
                "username": SYNC_USER,
                "password": values["salesforce_password"],
                "last_name": "Integration",
            },
        )
        yield running, tokens


def _bad_cdc(stack: FaultStack, name: str, source: str, **wrong: Any) -> ManagedProcess:
    """`sfpms cdc run --source <source>` with the settings overridden by `wrong`."""
    settings = stack.live.settings.model_copy(update=wrong)
    process = ManagedProcess(
        name=name,
        argv=[sys.executable, "-m", "sfpms", "cdc", "run", "--source", source],
        log_path=stack.live.log_dir / f"{name}.log",
        env={**os.environ, **settings_env(settings)},
    )
    process.start()
    return process


def _restart_dead(stack: FaultStack) -> list[str]:
    restarted = []
    for name, process in stack.live.processes.items():
        if not process.alive():
            process.start()
            restarted.append(name)
    return restarted


def _stopped(process: ManagedProcess) -> Callable[[], bool]:
    return lambda: not process.alive()


def _dead_letters_for(settings: Settings, records: set[str]) -> list[dict[str, Any]] | None:
    """Every dead letter, once there is one for each of `records`."""
    found = [letter for _p, _o, letter in read_dead_letters(settings)]
    return found if records <= {str(letter.get("record")) for letter in found} else None


def _all_topic_bytes(settings: Settings) -> list[bytes]:
    """Every key and value of every topic of this deployment (its prefix), raw."""
    consumer = Consumer(settings.consumer_config(settings.topic("secrets-scan")))
    found: list[bytes] = []
    try:
        topics = [
            n
            for n in consumer.list_topics(timeout=15).topics
            if n.startswith(settings.topic_prefix)
        ]
        for name in topics:
            metadata = consumer.list_topics(name, timeout=15).topics[name]
            for partition in metadata.partitions:
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(name, partition), timeout=15
                )
                if high <= low:
                    continue
                consumer.assign([TopicPartition(name, partition, OFFSET_BEGINNING)])
                for _ in range(200_000):
                    msg = consumer.poll(2.0)
                    if msg is None:
                        break
                    if msg.error():
                        continue
                    found += [msg.key() or b"", msg.value() or b""]
                    if (msg.offset() or 0) >= high - 1:
                        break
    finally:
        consumer.close()
    return found


def _bad_credentials(running: FaultStack, values: dict[str, str]) -> None:
    """Three CDC processes with wrong credentials name the setting to fix; the two with wrong
    Salesforce credentials stop, the one with a refused Custompms token keeps retrying."""
    bad = [
        _bad_cdc(
            running,
            "cdc-wrong-client-secret",
            "salesforce",
            salesforce_client_secret=SecretStr(values["wrong_client_secret"]),
            salesforce_password=SecretStr(values["wrong_password"]),
        ),
        _bad_cdc(
            running,
            "cdc-wrong-password",
            "salesforce",
            salesforce_password=SecretStr(values["wrong_password"]),
        ),
    ]
    # A refused Custompms token does not stop the process: it says so loudly and keeps
    # retrying with backoff, so a token fixed meanwhile is picked up (docs/faults.md).
    refused = _bad_cdc(
        running,
        "cdc-wrong-token",
        "custompms",
        custompms_token=SecretStr(values["wrong_custompms_token"]),
    )
    try:
        for process in bad:
            eventually(_stopped(process), timeout=60, what=f"{process.name} to stop")
            assert process.returncode() not in (0, None), process.name
        eventually(
            lambda: "credentials refused" in (refused.log_path or Path()).read_text("utf-8"),
            timeout=60,
            what="the refused token to be reported",
        )
        assert refused.alive(), "a refused Custompms token must not stop the capture"
    finally:
        for process in [*bad, refused]:
            process.stop(grace=5)
    logs = {p.name: (p.log_path or Path()).read_text(errors="replace") for p in [*bad, refused]}
    assert "SFPMS_SALESFORCE_CLIENT_SECRET" in logs["cdc-wrong-client-secret"]
    assert "SFPMS_SALESFORCE_PASSWORD" in logs["cdc-wrong-password"]
    assert "SFPMS_CUSTOMPMS_TOKEN" in logs["cdc-wrong-token"]


def _through_failures(
    running: FaultStack, tokens: dict[str, str], values: dict[str, str]
) -> list[dict[str, Any]]:
    """People work through faults, expired sessions, a revoked token and bad records;
    returns the dead letters this made."""
    live, settings = running.live, running.live.settings
    sf = SfPerson(live.sf.url, live.sf.cert, client_secret=values["salesforce_client_secret"])
    pms = PmsPerson(live.pms.url, PERSON_TOKEN)
    running.people += [sf, pms]
    running.set_faults(
        error_rate=0.1, rate_limit_rate=0.05, retry_after_s=1, drop_rate=0.03, latency_ms=10, seed=7
    )
    sf.create("Task", {"Subject": "Before the token is revoked"})
    live.sf.admin("POST", "/expire-tokens")
    customer = pms.create("customers", {"name": "Secretless Customer"})
    too_long = pms.create("customers", {"name": "L" * 120})  # Division names stop at 80
    running.clear_faults()
    eventually(
        lambda: [p for p in pms.items("projects") if p["name"] == "Before the token is revoked"],
        timeout=90,
        what="the first Task's Project",
    )
    revoked = tokens.pop(values["custompms_token"])
    pms.create("projects", {"name": "Made while the token is revoked"})
    eventually(lambda: "401 unauthorized" in live.logs(), timeout=60, what="the sync meeting a 401")
    tokens[values["custompms_token"]] = revoked
    _restart_dead(running)
    producer = Producer(settings.producer_config())
    producer.produce(
        settings.topic(t.changes_topic("salesforce", "task")), key=b"junk", value=b"junk"
    )
    producer.produce(settings.topic(t.writes_topic("custompms")), key=b"junk-w", value=b"\x00")
    assert producer.flush(15) == 0
    eventually(
        lambda: sf.query(f"SELECT Id FROM Division WHERE Custompms_Id__c = '{customer}'"),  # noqa: S608
        timeout=90,
        what="the Customer's Division",
    )
    eventually(
        lambda: sf.query("SELECT Id FROM Task WHERE Subject = 'Made while the token is revoked'"),
        timeout=90,
        what="the Project made while the token was revoked",
    )
    wanted = {too_long, "junk", "junk-w"}
    return eventually(lambda: _dead_letters_for(settings, wanted), timeout=60, what="letters")


def _dashboard_answers(settings: Settings, values: dict[str, str]) -> dict[str, bytes]:
    """Every page and JSON answer of the dashboard (bodies and headers): with the token,
    with a wrong one, with `?token=` (refused), through the login form's session cookie and
    under a foreign Host header (refused)."""
    headers = {"Authorization": f"Bearer {values['dashboard_token']}"}
    base = f"http://127.0.0.1:{settings.dashboard_port}"
    eventually(
        lambda: httpx.get(f"{base}/api/overview", headers=headers).json().get("ready"),
        timeout=60,
        what="the dashboard's first sample",
    )
    pages = {path: httpx.get(base + path, headers=headers, timeout=10) for path in DASHBOARD_PATHS}
    assert {p: r.status_code for p, r in pages.items()} == dict.fromkeys(DASHBOARD_PATHS, 200)
    wrong = {"Authorization": f"Bearer {values['wrong_password']}"}
    pages["401"] = httpx.get(f"{base}/api/overview", headers=wrong, timeout=10)
    pages["?token="] = httpx.get(f"{base}/?token={values['dashboard_token']}", timeout=10)
    pages["foreign host"] = httpx.get(
        f"{base}/api/overview", headers={**headers, "Host": "rebound.example"}, timeout=10
    )
    with httpx.Client(base_url=base, timeout=10) as browser:
        pages["login"] = browser.post("/login", data={"token": values["dashboard_token"]})
        pages["with the session cookie"] = browser.get("/api/overview")
    statuses = {p: pages[p].status_code for p in ("401", "?token=", "foreign host", "login")}
    assert statuses == {"401": 401, "?token=": 401, "foreign host": 400, "login": 303}
    assert pages["with the session cookie"].status_code == 200
    return {f"dashboard {p}": r.content + str(r.headers).encode() for p, r in pages.items()}


def test_no_configured_secret_appears_in_logs_dashboard_dead_letters_or_topics(
    stack: tuple[FaultStack, dict[str, str]], values: dict[str, str]
) -> None:
    running, tokens = stack
    live = running.live
    settings = live.settings
    # The registry's basic-auth password is one more secret every client holds.
    assert settings.schema_registry_password is not None
    values["schema_registry_password"] = settings.schema_registry_password.get_secret_value()
    _bad_credentials(running, values)
    start_product(live)
    live.start_process(
        "dashboard", "dashboard", "--port", str(settings.dashboard_port), "--interval", "1"
    )
    letters = _through_failures(running, tokens, values)
    haystacks = _dashboard_answers(settings, values)
    live.stop()  # flush and close every log
    haystacks.update(
        {f"log {path.name}": path.read_bytes() for path in sorted(live.log_dir.glob("*.log"))}
    )
    haystacks["dead letters"] = repr(letters).encode() + b"".join(
        (r.get("value") or b"") + (r.get("key") or b"") for r in letters
    )
    haystacks["topics"] = b"\x1f".join(_all_topic_bytes(settings))
    assert len(haystacks) > 10 and all(haystacks.values())
    assert b"logged in to Salesforce" in haystacks["log cdc.log"]

    leaks = [
        f"{name} in {where}"
        for name, value in values.items()
        for where, text in haystacks.items()
        if value.encode() in text or value[:16].encode() in text
    ]
    assert not leaks, "secrets leaked:\n" + "\n".join(leaks)
