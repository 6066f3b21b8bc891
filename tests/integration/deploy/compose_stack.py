"""docker-compose.yml run without Docker: each sfpms service's own command and environment,
as real processes on 127.0.0.1, against the session broker, an embedded registry and both
emulators.

What is rewritten, and only that: compose host names become 127.0.0.1 and every service
port a free local port (in the environment, the command and the healthcheck alike); the
data directory becomes a temporary directory per service (the volume); servers bind
127.0.0.1 instead of 0.0.0.0; the replication factor 3 becomes 1 (the embedded broker is
one node); each run gets its own topic prefix; the emulator's self-signed certificate is
trusted. The `.env` a production deployment would provide points at the emulators.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foundation.settings import Settings
from sfpms.embedded.broker import free_port
from sfpms.embedded.process import ManagedProcess
from tests.integration.custompms.support import running_emulator
from tests.integration.salesforce.support import running_salesforce
from tests.support.compose import environment_of, load_compose
from tests.support.harness import HarnessSettings, unique_prefix
from tests.support.live import PERSON_TOKEN, Live, pubsub_config, pubsub_endpoint
from tests.support.stack import with_registry

#: compose start order of the product's long-running services (after topic-init)
SERVICES = ("cdc", "worker", "sinks", "dashboard")
DASHBOARD_TOKEN = "compose-dashboard-token-5b1e"
_HEALTH_PORT = re.compile(r"127\.0\.0\.1:(\d+)/readyz")


@dataclass
class ComposeService:
    """One service as compose defines it, rewritten for this machine."""

    name: str
    argv: list[str]
    env: dict[str, str]
    healthcheck: list[str] | None
    port: int | None  # the local port its /metrics, /healthz, /readyz answer on
    compose_port: int | None  # the port docker-compose.yml gives it
    process: ManagedProcess | None = None

    def healthy(self) -> tuple[bool, str]:
        """Run the service's own healthcheck command (CMD form) once."""
        assert self.healthcheck is not None and self.healthcheck[0] == "CMD"
        argv = [sys.executable if a == "python" else a for a in self.healthcheck[1:]]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=self.env)
        return done.returncode == 0, (done.stdout + done.stderr).strip()


@dataclass
class ComposeStack:
    """The running services and a `Live` for people's edits and reading both systems."""

    services: dict[str, ComposeService]
    live: Live
    settings: Settings
    log_dir: Path
    ports: dict[str, int] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.services[service].port}"

    def logs(self) -> str:
        return self.live.logs()


def _rewrite(value: str, addresses: dict[str, str]) -> str:
    for remote, local in addresses.items():
        value = value.replace(remote, local)
    return value


def build_services(
    env_file: dict[str, str], addresses: dict[str, str], extra: dict[str, str], root: Path
) -> dict[str, ComposeService]:
    """topic-init and the long-running services, rewritten (see the module docstring)."""
    compose = load_compose(env_file)["services"]
    built: dict[str, ComposeService] = {}
    for name in ("topic-init", *SERVICES):
        service = compose[name]
        env = {k: _rewrite(v, addresses) for k, v in environment_of(service).items()}
        # One broker address per node named; all nodes are the one embedded broker here.
        env["SFPMS_KAFKA_BOOTSTRAP"] = ",".join(
            dict.fromkeys(env["SFPMS_KAFKA_BOOTSTRAP"].split(","))
        )
        env["SFPMS_DATA_DIR"] = str(root / name)
        if "SFPMS_METRICS_HOST" in env:
            env["SFPMS_METRICS_HOST"] = "127.0.0.1"
        env["SFPMS_REPLICATION_FACTOR"] = "1"
        health = service.get("healthcheck", {}).get("test")
        port = remote_port = None
        if health:
            found = _HEALTH_PORT.search(" ".join(health))
            assert found, f"{name}: the healthcheck probes no 127.0.0.1 port"
            remote_port = found[1]
            port = free_port()
            health = [a.replace(f":{remote_port}/", f":{port}/") for a in health]
            addresses[f"{name}:{remote_port}"] = f"127.0.0.1:{port}"
        argv = [str(a) for a in service["command"]]
        if port is not None:
            argv = [str(port) if a == remote_port else a for a in argv]
        built[name] = ComposeService(
            name,
            [sys.executable, "-m", "sfpms", *argv],
            {**{k: v for k, v in os.environ.items() if not k.startswith("SFPMS_")}, **env, **extra},
            health,
            port,
            int(remote_port) if remote_port else None,
        )
    # Addresses of services defined after the one that names them (the dashboard reads the
    # CDC and sink metrics): rewrite again now that every port is known.
    for svc in built.values():
        svc.env = {k: _rewrite(v, addresses) for k, v in svc.env.items()}
    return built


@contextmanager
def compose_stack(kafka_bootstrap: str, tmp: Path) -> Iterator[ComposeStack]:
    """Every sfpms service of docker-compose.yml running and healthy; stopped at the end."""
    harness = HarnessSettings()
    prefix = unique_prefix("compose")
    base = Settings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=prefix,
        data_dir=tmp / "test",
        broker_engine=harness.test_broker,
    )
    log_dir = tmp / "logs"
    with ExitStack() as stack:
        registry = stack.enter_context(with_registry(base))
        sf = stack.enter_context(running_salesforce(tmp / "tls", **pubsub_config(tmp)))
        pms = stack.enter_context(running_emulator())
        pms.add_token(PERSON_TOKEN, "alice")
        defaults = Settings()
        env_file = {
            "SFPMS_SALESFORCE_URL": sf.url,
            "SFPMS_SALESFORCE_PUBSUB_ENDPOINT": pubsub_endpoint(sf),
            "SFPMS_SALESFORCE_CLIENT_ID": defaults.salesforce_client_id,
            "SFPMS_SALESFORCE_CLIENT_SECRET": defaults.salesforce_client_secret.get_secret_value(),
            "SFPMS_SALESFORCE_USERNAME": str(defaults.salesforce_username),
            "SFPMS_SALESFORCE_PASSWORD": defaults.salesforce_password.get_secret_value()
            if defaults.salesforce_password
            else "",
            "SFPMS_CUSTOMPMS_URL": pms.url,
            "SFPMS_CUSTOMPMS_TOKEN": defaults.custompms_token.get_secret_value(),
            # the test registry's basic-auth login, which compose gives every service
            "SFPMS_SCHEMA_REGISTRY_USER": str(registry.schema_registry_user),
            "SFPMS_SCHEMA_REGISTRY_PASSWORD": registry.schema_registry_password.get_secret_value()
            if registry.schema_registry_password
            else "",
            "SFPMS_DASHBOARD_TOKEN": DASHBOARD_TOKEN,
            "GRAFANA_ADMIN_PASSWORD": "unused-here",
        }
        broker_addresses = {f"kafka-{n}:9092": kafka_bootstrap for n in (1, 2, 3)}
        addresses = {
            **broker_addresses,
            "http://schema-registry:8081": str(registry.schema_registry_url),
            "http://prometheus:9090": f"http://127.0.0.1:{free_port()}",  # none runs here
        }
        extra = {
            "SFPMS_TOPIC_PREFIX": prefix,
            "SFPMS_BROKER_ENGINE": harness.test_broker,
            "SFPMS_SALESFORCE_CA_BUNDLE": str(sf.cert),
        }
        services = build_services(env_file, addresses, extra, tmp / "volumes")
        settings = registry.model_copy(
            update={
                "salesforce_url": sf.url,
                "salesforce_ca_bundle": sf.cert,
                "custompms_url": pms.url,
                "partitions": int(services["cdc"].env["SFPMS_PARTITIONS"]),
            }
        )
        live = Live(settings, sf, pms, log_dir)
        running = ComposeStack(services, live, settings, log_dir)
        try:
            _run_to_completion(services["topic-init"], log_dir)
            for name in SERVICES:
                _start_until_healthy(services[name], live, log_dir)
            yield running
        finally:
            for name in reversed(SERVICES):
                process = services[name].process
                if process is not None:
                    process.stop(grace=15)


def _run_to_completion(service: ComposeService, log_dir: Path) -> None:
    log_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        service.argv, capture_output=True, text=True, timeout=120, env=service.env
    )
    (log_dir / f"{service.name}.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, f"{service.name} exited {done.returncode}: {done.stderr[-2000:]}"


def _start_until_healthy(
    service: ComposeService, live: Live, log_dir: Path, timeout: float = 120
) -> None:
    process = ManagedProcess(
        name=service.name,
        argv=service.argv,
        log_path=log_dir / f"{service.name}.log",
        env=service.env,
    )
    process.start()
    service.process = process
    live.processes[service.name] = process
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if not process.alive():
            raise AssertionError(f"{service.name} exited during start:\n{live.logs()}")
        ok, last = service.healthy()
        if ok:
            return
        time.sleep(1.0)
    raise AssertionError(f"{service.name} not healthy in {timeout:.0f}s ({last}):\n{live.logs()}")


def summary(stack: ComposeStack) -> dict[str, Any]:
    return {name: (svc.port, svc.argv[3:]) for name, svc in stack.services.items()}
