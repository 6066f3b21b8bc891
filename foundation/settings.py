"""The one settings object. Every `SFPMS_*` environment variable is read here and nowhere else.

Credentials are `SecretStr`: they print as `**********` in reprs, logs and errors. Call
`.get_secret_value()` only at the point where the secret goes on the wire.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from foundation.capture_settings import (
    SALESFORCE_OBJECTS,
    CaptureSettings,
    CustompmsMode,
    TaskCapture,
)

BrokerEngine = Literal["noida-db", "tansu"]
SalesforceAuth = Literal["jwt", "client_credentials", "password"]

#: The name the sync writes under. Salesforce records it from `Sforce-Call-Options: client=`,
#: Custompms as the change feed's `actor`; CDC tags such changes as the sync's own (echoes).
DEFAULT_CLIENT_NAME = "sfpms"


__all__ = [
    "SALESFORCE_OBJECTS",
    "CaptureSettings",
    "CustompmsMode",
    "TaskCapture",
]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SinkSystemSettings(_Section):
    """Batching and retry knobs of one system's sink worker.

    A command that keeps failing with a transient error is tried again with backoff
    (`backoff_initial_s` doubling up to `backoff_max_s`) until `max_attempts` or `max_age_s`
    after its first failure, then dead-lettered with the reason (docs/faults.md). Waits that
    are not the command's fault do not count: REQUEST_LIMIT_EXCEEDED without a Retry-After
    waits `limit_wait_s`; a refused token waits with backoff up to `backoff_max_s`.
    `max_poll_interval_s` is the consumer's max.poll.interval.ms (the sink polls while
    commands wait, so it only has to cover one apply)."""

    batch_size: int = Field(200, ge=1)
    linger_s: float = Field(0.25, ge=0)
    backoff_initial_s: float = Field(0.5, gt=0)
    backoff_max_s: float = Field(30.0, gt=0)
    max_attempts: int = Field(20, ge=1)
    max_age_s: float = Field(1800.0, gt=0)
    limit_wait_s: float = Field(300.0, gt=0)
    max_poll_interval_s: float = Field(300.0, ge=6)


class SalesforceSinkSettings(SinkSystemSettings):
    """Salesforce's sink defaults (see SinkSettings): a class of its own, so that setting one
    field from the environment keeps the other Salesforce defaults."""

    batch_size: int = Field(1000, ge=1)
    linger_s: float = Field(1.0, ge=0)


class SinkSettings(_Section):
    """Per-system sink settings (`SFPMS_SINKS__SALESFORCE__LINGER_S=0.5`, ...).

    Salesforce counts every call against a daily allowance, so its sink waits up to a second
    and takes up to 1,000 commands a batch: updates go out as 200-record Collections calls
    after one 2,000-id conflict check (a quarter second gave ~100 records a call at 340
    changes/s; docs/benchmarks.md). Custompms has no such allowance and gets the lower
    latency."""

    salesforce: SalesforceSinkSettings = SalesforceSinkSettings()
    custompms: SinkSystemSettings = SinkSystemSettings()

    def for_system(self, system: str) -> SinkSystemSettings:
        if system == "salesforce":
            return self.salesforce
        if system == "custompms":
            return self.custompms
        raise ValueError(f"no sink for system {system!r} (salesforce or custompms)")


class EngineSettings(_Section):
    """How an engine worker takes its input (`SFPMS_ENGINE__<NAME>`)."""

    batch_max: int = Field(500, ge=1, description="Most records one agent batch takes.")
    batch_within_s: float = Field(
        0.2, gt=0, description="Longest wait to fill a batch before processing what came."
    )


class Settings(BaseSettings):
    """Runtime configuration; see README.md "Configuration" for the full list.

    Flat fields are `SFPMS_<NAME>`; the capture, sink and engine sections are nested:
    `SFPMS_CAPTURE__POLL_INTERVAL_S=10`, `SFPMS_SINKS__CUSTOMPMS__BATCH_SIZE=500`.
    """

    model_config = SettingsConfigDict(
        env_prefix="SFPMS_",
        env_file=None,
        extra="ignore",
        validate_default=True,
        env_nested_delimiter="__",
    )

    # -- local state ------------------------------------------------------------------------
    data_dir: Path = Field(Path(".sfpms"), description="Where embedded components keep data.")

    # -- Kafka ------------------------------------------------------------------------------
    kafka_bootstrap: str | None = Field(
        None, description="host:port[,host:port]; unset = start/use the embedded broker."
    )
    broker_engine: BrokerEngine = "noida-db"
    broker_port: int = 19092
    topic_prefix: str = Field("", description="Prepended to every topic name (tests, tenancy).")
    partitions: int = Field(6, ge=1, description="Partitions of every data topic.")
    replication_factor: int = Field(1, ge=1)
    kafka_security_protocol: str | None = None
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_ca_location: str | None = None
    kafka_ssl_certificate_location: str | None = None
    kafka_ssl_key_location: str | None = None
    kafka_ssl_key_password: SecretStr | None = None
    kafka_producer_config: dict[str, str | int] = Field(
        default_factory=dict,
        description='Extra librdkafka producer settings as JSON, e.g. {"linger.ms": 5}.',
    )
    kafka_consumer_config: dict[str, str | int] = Field(
        default_factory=dict, description="Extra librdkafka consumer settings as JSON."
    )

    # -- schema registry --------------------------------------------------------------------
    schema_registry_url: str | None = Field(
        None, description="Confluent-compatible registry; unset = the embedded one."
    )
    schema_registry_user: str | None = None
    schema_registry_password: SecretStr | None = None
    registry_port: int = 18081

    # -- Salesforce -------------------------------------------------------------------------
    salesforce_url: str | None = Field(
        None, description="Login URL (token endpoint host); unset = the local emulator."
    )
    salesforce_client_id: str = "sfpms-local"
    salesforce_client_secret: SecretStr = SecretStr("sfpms-local-secret")
    salesforce_username: str | None = "admin@sfpms.local"
    salesforce_password: SecretStr | None = SecretStr("sfpms-local-password")
    salesforce_auth: SalesforceAuth | None = Field(
        None,
        description="OAuth flow: jwt (JWT bearer, signed with salesforce_jwt_key[_file]), "
        "client_credentials, or password (being retired by Salesforce). Unset = password "
        "when a username and password are set, else client_credentials.",
    )
    salesforce_jwt_key_file: Path | None = Field(
        None, description="PEM private key (RSA) that signs JWT bearer assertions."
    )
    salesforce_jwt_key: SecretStr | None = Field(
        None, description="The PEM private key itself, instead of salesforce_jwt_key_file."
    )
    salesforce_jwt_audience: str | None = Field(
        None,
        description="The assertion's aud: https://login.salesforce.com (production), "
        "https://test.salesforce.com (sandbox) or a community URL. Unset = derived from "
        "salesforce_url (the emulator's own URL when that is unset).",
    )
    salesforce_api_version: str = "60.0"
    salesforce_conditional_updates: bool = Field(
        True,
        description="Check a batch's records before updating them (one extra call per 2,000) "
        "and skip writes whose record a person changed after the decision. Off saves the "
        "call but lets a sync write decided earlier overwrite a person's newer edit.",
    )
    salesforce_ca_bundle: Path | None = Field(
        None, description="PEM bundle to trust (the emulator's self-signed certificate)."
    )
    salesforce_emulator_port: int = 18443
    salesforce_pubsub_endpoint: str | None = Field(
        None,
        description="host:port of the Pub/Sub API. Unset = the emulator's "
        "(127.0.0.1:salesforce_pubsub_port) when salesforce_url is unset, else Salesforce's "
        "api.pubsub.salesforce.com:7443.",
    )
    salesforce_pubsub_port: int = Field(
        17443, description="Port of the emulator's Pub/Sub API in the embedded stack."
    )
    salesforce_api_reserve: float = Field(
        0.2,
        ge=0,
        lt=1,
        description="Fraction of the org's daily API allowance the sync leaves for the org's "
        "other integrations; at the rest it pauses (capture, sinks and backfill alike).",
    )
    salesforce_api_pace_band: float = Field(
        0.1,
        ge=0,
        lt=1,
        description="Fraction of the allowance, just below the sync's share, over which "
        "calls are paced (each waits up to salesforce_api_pace_max_s).",
    )
    salesforce_api_pace_max_s: float = Field(
        2.0, ge=0, description="Longest pause before one call while pacing."
    )
    salesforce_api_probe_s: float = Field(
        60.0,
        gt=0,
        description="While paused by the API budget, how often usage is read again (one "
        "GET /limits per process).",
    )

    # -- Custompms --------------------------------------------------------------------------
    custompms_url: str | None = Field(None, description="Base URL; unset = the local emulator.")
    custompms_token: SecretStr = SecretStr("sfpms-local-token")
    custompms_emulator_port: int = 18090

    # -- the sync ---------------------------------------------------------------------------
    mapping_file: Path | None = Field(
        None,
        description="The mapping file (YAML, see docs/mapping.md); unset = the shipped "
        "config/mapping.yaml.",
    )
    create_before_onboarding: bool = Field(
        False,
        description="Let records that existed before the sync first started create their "
        "twins at once. Off (the default), they wait until `sfpms onboard` pairs or creates "
        "them, so a first start against an org with history creates nothing in bulk.",
    )
    client_name: str = DEFAULT_CLIENT_NAME
    precedence: Literal["salesforce", "custompms"] = Field(
        "salesforce", description="Which system wins a conflict whose timestamps tie."
    )
    dashboard_port: int = 18080
    metrics_host: str = Field(
        "127.0.0.1",
        description="Address the /metrics, /healthz and /readyz servers (CDC, sinks, engine "
        "web, dashboard) bind to; 0.0.0.0 inside a container so Prometheus and probes reach it.",
    )
    cdc_metrics_url: str | None = Field(
        None, description="Where the dashboard reads the CDC /metrics (default 127.0.0.1)."
    )
    sink_metrics_url: str | None = Field(
        None, description="Where the dashboard reads the sinks' /metrics (default 127.0.0.1)."
    )
    worker_metrics_url: str | None = Field(
        None,
        description="Where the dashboard reads an engine worker's /metrics (default its web "
        "port on 127.0.0.1).",
    )
    prometheus_url: str | None = Field(
        None,
        description="Prometheus that scrapes the dashboard; when set, the dashboard reads its "
        "lag history back from it after a restart.",
    )
    cdc_metrics_port: int = 18091
    sink_metrics_port: int = 18092
    dashboard_token: SecretStr | None = Field(
        None,
        description="Token the dashboard requires (empty = unset); needed off loopback.",
    )
    dashboard_allowed_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="Host names the dashboard answers to besides localhost and its bind "
        "address (comma-separated); any other Host header is refused (DNS rebinding).",
    )
    worker_web_port: int = 16066
    engine_store: Literal["rocksdb", "memory"] = Field(
        "rocksdb",
        description="Where an engine worker keeps its share of the link table: RocksDB on "
        "disk (memory stays small at millions of links) or memory (fastest, RAM-bound).",
    )
    instance_id: str | None = Field(
        None,
        description="Static group membership id of this process (default: host, role, port).",
    )
    static_membership: bool | None = Field(
        None,
        description="Join consumer groups as a static member (group.instance.id), so a "
        "restarted worker takes its partitions back at once. Unset = on, except on Tansu "
        "(broker_engine=tansu), whose groups never settle with two static members.",
    )
    log_level: str = "INFO"
    kill_point: str | None = Field(
        None,
        description="Test only: die with SIGKILL at this point (`name[@n]`, "
        "foundation/killpoints.py).",
    )
    retention_writes_ms: int = Field(
        90 * 24 * 3600 * 1000,
        ge=-1,
        description="retention.ms of the write-command topics (-1 = forever); longer than "
        "any outage of a target system the sync must ride out",
    )
    retention_results_ms: int = Field(
        90 * 24 * 3600 * 1000, ge=-1, description="retention.ms of sfpms.results (-1 = forever)"
    )
    retention_deadletter_ms: int = Field(
        -1, ge=-1, description="retention.ms of sfpms.deadletter (-1 = forever)"
    )

    # -- sections ---------------------------------------------------------------------------
    capture: CaptureSettings = CaptureSettings()
    sinks: SinkSettings = SinkSettings()
    engine: EngineSettings = EngineSettings()

    @field_validator("dashboard_allowed_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return tuple(json.loads(text))
            return tuple(h.strip() for h in text.split(",") if h.strip())
        return value

    def kafka_client_config(self) -> dict[str, Any]:
        """librdkafka settings shared by every confluent-kafka client (security pass-through)."""
        conf: dict[str, Any] = {"bootstrap.servers": self.require_bootstrap()}
        optional: dict[str, str | None] = {
            "security.protocol": self.kafka_security_protocol,
            "sasl.mechanism": self.kafka_sasl_mechanism,
            "sasl.username": self.kafka_sasl_username,
            "ssl.ca.location": self.kafka_ssl_ca_location,
            "ssl.certificate.location": self.kafka_ssl_certificate_location,
            "ssl.key.location": self.kafka_ssl_key_location,
        }
        conf.update({k: v for k, v in optional.items() if v})
        if self.kafka_sasl_password is not None:
            conf["sasl.password"] = self.kafka_sasl_password.get_secret_value()
        if self.kafka_ssl_key_password is not None:
            conf["ssl.key.password"] = self.kafka_ssl_key_password.get_secret_value()
        return conf

    def producer_config(self, **overrides: Any) -> dict[str, Any]:
        """A confluent-kafka producer config: durable, idempotent, murmur2 like Faust/Java.

        murmur2 matters: Faust (aiokafka) partitions keys with murmur2 and librdkafka's
        default is CRC32, so without it a key would land in different partitions depending
        on who produced it, and co-partitioning would silently break.
        """
        conf: dict[str, Any] = {
            **self.kafka_client_config(),
            "enable.idempotence": True,
            "acks": "all",
            "partitioner": "murmur2_random",
            "linger.ms": 5,
        }
        if self.broker_engine == "tansu":
            # Tansu reports wrong end offsets for multi-record batches (docs/brokers.md).
            conf["batch.num.messages"] = 1
        conf.update(self.kafka_producer_config)
        conf.update(overrides)
        return conf

    def consumer_config(self, group_id: str, **overrides: Any) -> dict[str, Any]:
        """A confluent-kafka consumer config with manual commits."""
        conf: dict[str, Any] = {
            **self.kafka_client_config(),
            "group.id": group_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 1000,
        }
        conf.update(self.kafka_consumer_config)
        conf.update(overrides)
        return conf

    def require_bootstrap(self) -> str:
        """The bootstrap servers, or the embedded broker's address when none is configured."""
        return self.kafka_bootstrap or f"127.0.0.1:{self.broker_port}"

    def registry_url(self) -> str:
        return self.schema_registry_url or f"http://127.0.0.1:{self.registry_port}"

    def registry_credentials(self) -> tuple[str, SecretStr] | None:
        """The registry's basic-auth (user, password): the configured pair, or for the
        embedded registry the one it generated (foundation/local_credentials.py)."""
        if self.schema_registry_user and self.schema_registry_password is not None:
            return self.schema_registry_user, self.schema_registry_password
        if self.schema_registry_url is None:
            from foundation.local_credentials import read_local_credentials

            return read_local_credentials(self.data_dir)
        return None

    def registry_client_config(self) -> dict[str, Any]:
        """Settings for confluent-kafka's SchemaRegistryClient."""
        conf: dict[str, Any] = {"url": self.registry_url()}
        credentials = self.registry_credentials()
        if credentials is not None:
            user, secret = credentials
            conf["basic.auth.user.info"] = f"{user}:{secret.get_secret_value()}"
        return conf

    def retention_ms_for(self, kind: str | None) -> int | None:
        """The configured retention of a kind of topic (foundation/kafka/topics.py)."""
        return {
            "writes": self.retention_writes_ms,
            "results": self.retention_results_ms,
            "deadletter": self.retention_deadletter_ms,
        }.get(kind or "")

    def topic(self, name: str) -> str:
        """A topic name with the configured prefix."""
        return f"{self.topic_prefix}{name}"

    def salesforce_base_url(self) -> str:
        return self.salesforce_url or f"https://127.0.0.1:{self.salesforce_emulator_port}"

    def custompms_base_url(self) -> str:
        return self.custompms_url or f"http://127.0.0.1:{self.custompms_emulator_port}"

    def salesforce_pubsub(self) -> str:
        """host:port of the Salesforce Pub/Sub API (see `salesforce_pubsub_endpoint`)."""
        if self.salesforce_pubsub_endpoint:
            return self.salesforce_pubsub_endpoint
        if self.salesforce_url is None:
            return f"127.0.0.1:{self.salesforce_pubsub_port}"
        return "api.pubsub.salesforce.com:7443"

    def salesforce_verify(self) -> str | bool:
        """What httpx should verify the Salesforce certificate against."""
        if self.salesforce_ca_bundle is not None:
            return str(self.salesforce_ca_bundle)
        if self.salesforce_url is None:
            # The emulator writes its self-signed certificate here when it starts.
            return str(self.data_dir / "salesforce" / "cert.pem")
        return True


def settings_env(settings: Settings) -> dict[str, str]:
    """`SFPMS_*` environment variables that recreate `settings` in a child process."""
    import json

    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        text = json.dumps(value) if isinstance(value, dict | list | tuple) else str(value)
        env[f"SFPMS_{name.upper()}"] = text
    return env


def member_id(settings: Settings, role: str, explicit: str | None = None) -> str | None:
    """This process's group.instance.id, or None when static membership is off."""
    enabled = settings.static_membership
    if enabled is None:
        enabled = settings.broker_engine != "tansu"
    if not enabled:
        return None
    return explicit or settings.instance_id or default_instance_id(role)


def default_instance_id(role: str) -> str:
    """A group.instance.id stable across restarts of the same process on the same host."""
    import socket

    return f"{socket.gethostname()}-{role}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once from the environment)."""
    return Settings()
