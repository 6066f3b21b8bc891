"""The embedded stack: which components run, how to start them, and how to tell they are up.

`sfpms up` starts them in order as child processes (each its own `python -m sfpms ...`),
records them in `.sfpms/stack.json`, restarts one that dies (a few times, with backoff) and
stops them all in reverse order on Ctrl-C. `sfpms status` reads the file and probes each:
the product's processes and the registry by their `/readyz` (foundation/health.py), which
says which dependency does not answer.
Components whose real counterpart is configured (SFPMS_KAFKA_BOOTSTRAP, a registry URL,
Salesforce/Custompms URLs) are not started.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from foundation.settings import Settings, settings_env
from sfpms.embedded.broker import broker_ready, port_open
from sfpms.embedded.process import ManagedProcess


@dataclass
class Component:
    """One part of the stack."""

    name: str
    argv: list[str]
    url: str
    port: int
    probe: Callable[[], bool] = field(repr=False)
    critical: bool = True
    ready_url: str | None = None
    #: The component whose process serves this one too (the emulator's Pub/Sub API).
    host: str | None = None
    process: ManagedProcess | None = field(default=None, repr=False)
    restarts: int = 0
    next_restart: float = 0.0

    def state(self) -> str:
        if self.process is None:
            return "external"
        if not self.process.alive():
            return "stopped"
        try:
            return "up" if self.probe() else "starting"
        except Exception:
            return "starting"


def _http_ok(url: str, verify: str | bool = False) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            return httpx.get(url, timeout=1.0, verify=verify).status_code < 500
        except httpx.HTTPError:
            return False

    return probe


def _ready(url: str) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            return httpx.get(url, timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    return probe


#: A /readyz runs its checks (each bounded by 2 s, foundation/health.py) when its cached
#: verdicts expire, so one answer can take seconds on a loaded machine: a verdict from it
#: waits for that, not for the 1 s the start-up polls use.
READY_TIMEOUT_S = 8.0


def not_ready_because(url: str, timeout: float = READY_TIMEOUT_S) -> str:
    """What a component's /readyz says is missing, in one line ("" when ready): the verdict
    and the reason come from the same answer."""
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        return f"no answer at {url} ({type(exc).__name__})"
    if response.status_code == 200:
        return ""
    try:
        checks = response.json().get("checks", {})
    except ValueError:
        return f"HTTP {response.status_code} from {url}"
    why = "; ".join(f"{name}: {why}" for name, why in checks.items() if why != "ok")
    return why or f"HTTP {response.status_code} from {url}"


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "sfpms", *args]


def is_demo(settings: Settings) -> bool:
    """Whether this stack is the embedded demo: both systems are the emulators it starts."""
    return settings.salesforce_url is None and settings.custompms_url is None


def demo_settings(settings: Settings) -> Settings:
    """The settings `sfpms up` runs its children with.

    The embedded demo lets records that predate the sync create their twins at once
    (`create_before_onboarding`): its emulators hold only seeded demo records, there is no
    org history to protect, and `make run` should show the sync at work without a
    `sfpms onboard` first. Against a real Salesforce or Custompms the safe default stays
    (nothing that predates the sync is created until onboarding), and an explicit
    SFPMS_CREATE_BEFORE_ONBOARDING always wins. README "Onboard an existing org".
    """
    if not is_demo(settings) or "create_before_onboarding" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"create_before_onboarding": True})


def components(settings: Settings) -> list[Component]:
    """The stack for these settings, in start order."""
    parts: list[Component] = []
    if settings.kafka_bootstrap is None:
        bootstrap = settings.require_bootstrap()
        parts.append(
            Component(
                "broker",
                _cli("broker"),
                f"kafka://{bootstrap}",
                settings.broker_port,
                lambda: broker_ready(bootstrap, timeout=1.0),
            )
        )
    if settings.schema_registry_url is None:
        url = settings.registry_url()
        ready = f"{url}/readyz"
        parts.append(
            Component(
                "registry",
                _cli("registry"),
                url,
                settings.registry_port,
                _ready(ready),
                ready_url=ready,
            )
        )
    if settings.salesforce_url is None:
        url = settings.salesforce_base_url()
        port = settings.salesforce_emulator_port
        parts.append(
            Component(
                "salesforce-emulator",
                _cli(
                    "emulate",
                    "salesforce",
                    "--port",
                    str(port),
                    "--pubsub-port",
                    str(settings.salesforce_pubsub_port),
                ),
                url,
                port,
                lambda: port_open(settings.salesforce_emulator_port),
            )
        )
        pubsub = settings.salesforce_pubsub_port
        parts.append(
            Component(
                "salesforce-pubsub",
                [],
                f"grpcs://127.0.0.1:{pubsub}",
                pubsub,
                lambda: port_open(pubsub),
                host="salesforce-emulator",
            )
        )
    if settings.custompms_url is None:
        url = settings.custompms_base_url()
        port = settings.custompms_emulator_port
        parts.append(
            Component(
                "custompms-emulator",
                _cli("emulate", "custompms", "--port", str(port), "--seed"),
                url,
                port,
                _http_ok(f"{url}/openapi.json"),
            )
        )
    processes = (
        ("cdc", ("cdc", "run", "--metrics-port"), settings.cdc_metrics_port, True),
        ("engine-worker", ("worker", "--web-port"), settings.worker_web_port, True),
        ("sinks", ("sink", "run", "--metrics-port"), settings.sink_metrics_port, True),
        ("dashboard", ("dashboard", "--port"), settings.dashboard_port, False),
    )
    for name, argv, port, critical in processes:
        base = f"http://127.0.0.1:{port}"
        parts.append(
            Component(
                name,
                _cli(*argv, str(port)),
                f"{base}/",
                port,
                _ready(f"{base}/readyz"),
                critical=critical,
                ready_url=f"{base}/readyz",
            )
        )
    return parts


def state_file(settings: Settings) -> Path:
    return settings.data_dir / "stack.json"


def write_state(settings: Settings, parts: list[Component]) -> None:
    """Record what runs where, for `sfpms status` and scripts."""
    data = {
        "started_at": time.time(),
        "components": {
            c.name: {
                "url": c.url,
                "port": c.port,
                "pid": c.process.pid if c.process else None,
                "argv": c.argv[3:],
            }
            for c in parts
        },
    }
    path = state_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


def read_state(settings: Settings) -> dict[str, Any] | None:
    path = state_file(settings)
    if not path.exists():
        return None
    value = json.loads(path.read_text())
    assert isinstance(value, dict)
    return value


def start(component: Component, settings: Settings) -> None:
    """Start one component as a child process with the stack's settings."""
    env = {**os.environ, **settings_env(settings)}
    component.process = ManagedProcess(
        name=component.name,
        argv=component.argv,
        log_path=settings.data_dir / "logs" / f"{component.name}.log",
        env=env,
    )
    component.process.start()


@dataclass
class StackReport:
    """A component's row in the status table."""

    name: str
    state: str
    url: str
    pid: int | None
    restarts: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def report(parts: list[Component]) -> list[StackReport]:
    return [
        StackReport(c.name, c.state(), c.url, c.process.pid if c.process else None, c.restarts)
        for c in parts
    ]
