"""docker-compose.yml, the infrastructure: Kafka (KRaft), the schema registry, Prometheus,
Alertmanager and Grafana, checked against what their images document they need.

Apache Kafka's image (apache/kafka) turns `KAFKA_*` variables into server.properties: a
KRaft node needs node.id, process.roles, controller.quorum.voters (id@host:port of every
controller), listeners with controller.listener.names among them, and a CLUSTER_ID shared
by all nodes that is a Kafka UUID: 16 bytes, base64url without padding (22 characters, what
`kafka-storage.sh random-uuid` prints). Its data directory, owned by the image's user, is
/var/lib/kafka/data, so log.dirs must be the volume mounted there. Confluent's registry
image needs SCHEMA_REGISTRY_HOST_NAME and SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS;
with HTTP basic auth on, its entrypoint writes the login file its JAAS config names and the
curl config its healthcheck logs in with (run here with sh and curl against a real server).
"""

from __future__ import annotations

import base64
import json
import re
import stat
import subprocess
from pathlib import Path
from typing import Any

import httpx
import yaml
from pydantic import SecretStr

from sfpms.registry.app import Registry, create_registry_app
from sfpms.registry.auth import BasicAuth
from sfpms.registry.log import MemoryLog
from tests.support.compose import EXAMPLE_ENV, ROOT, environment_of, load_compose, volume_targets
from tests.support.servers import serve_in_thread

COMPOSE = load_compose(EXAMPLE_ENV)
SERVICES: dict[str, Any] = COMPOSE["services"]
BROKERS = sorted(
    n for n, s in SERVICES.items() if str(s.get("image", "")).startswith("apache/kafka")
)
PROMETHEUS = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())


def _listeners(value: str) -> dict[str, int]:
    """'PLAINTEXT://:9092,CONTROLLER://:9093' -> {'PLAINTEXT': 9092, 'CONTROLLER': 9093}"""
    found = {}
    for item in value.split(","):
        name, _, address = item.partition("://")
        found[name] = int(address.rsplit(":", 1)[1])
    return found


def test_three_kraft_nodes_each_a_voter_with_a_unique_node_id() -> None:
    assert len(BROKERS) == 3
    ids = {}
    for name in BROKERS:
        env = environment_of(SERVICES[name])
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        ids[int(env["KAFKA_NODE_ID"])] = SERVICES[name]["hostname"]
    assert len(ids) == 3
    for name in BROKERS:
        env = environment_of(SERVICES[name])
        listeners = _listeners(env["KAFKA_LISTENERS"])
        controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
        voters = dict(v.split("@") for v in env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(","))
        assert voters == {str(i): f"{host}:{listeners[controller]}" for i, host in ids.items()}
        protocols = dict(
            p.split(":") for p in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
        )
        assert set(listeners) <= set(protocols)
        assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] in listeners
        advertised = _listeners(env["KAFKA_ADVERTISED_LISTENERS"])
        assert controller not in advertised  # controllers are not advertised to clients
        assert (
            env["KAFKA_ADVERTISED_LISTENERS"].split("//")[1].startswith(SERVICES[name]["hostname"])
        )


def test_the_cluster_id_is_one_kafka_uuid_of_sixteen_bytes() -> None:
    ids = {environment_of(SERVICES[name])["CLUSTER_ID"] for name in BROKERS}
    assert len(ids) == 1
    (cluster_id,) = ids
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id), cluster_id
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_each_node_logs_to_its_own_volume_at_the_image_data_directory() -> None:
    sources = set()
    for name in BROKERS:
        env = environment_of(SERVICES[name])
        volumes = volume_targets(SERVICES[name])
        assert env["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
        assert env["KAFKA_LOG_DIRS"] in volumes
        sources.add(volumes[env["KAFKA_LOG_DIRS"]])
    assert len(sources) == 3 and sources <= set(COMPOSE["volumes"])


def test_replication_settings_fit_three_brokers() -> None:
    env = environment_of(SERVICES[BROKERS[0]])
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
    ):
        assert int(env[key]) <= len(BROKERS)
    assert int(env["KAFKA_MIN_INSYNC_REPLICAS"]) < len(BROKERS)
    sfpms = environment_of(SERVICES["cdc"])
    assert int(sfpms["SFPMS_REPLICATION_FACTOR"]) <= len(BROKERS)


def _plaintext_addresses() -> set[str]:
    found = set()
    for name in BROKERS:
        env = environment_of(SERVICES[name])
        port = _listeners(env["KAFKA_LISTENERS"])[env["KAFKA_INTER_BROKER_LISTENER_NAME"]]
        found.add(f"{SERVICES[name]['hostname']}:{port}")
    return found


def test_the_registry_and_the_product_reach_every_broker_on_its_client_listener() -> None:
    env = environment_of(SERVICES["schema-registry"])
    assert env["SCHEMA_REGISTRY_HOST_NAME"] == "schema-registry"
    stores = {
        s.split("://")[-1] for s in env["SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS"].split(",")
    }
    assert stores == _plaintext_addresses()
    port = httpx.URL(env["SCHEMA_REGISTRY_LISTENERS"]).port
    sfpms = environment_of(SERVICES["cdc"])
    assert set(sfpms["SFPMS_KAFKA_BOOTSTRAP"].split(",")) == _plaintext_addresses()
    assert sfpms["SFPMS_SCHEMA_REGISTRY_URL"] == f"http://schema-registry:{port}"
    assert f"localhost:{port}/" in " ".join(SERVICES["schema-registry"]["healthcheck"]["test"])


def _targets(job: dict[str, Any]) -> list[str]:
    static = [t for s in job.get("static_configs", []) for t in s["targets"]]
    dns = [f"{n}:{d['port']}" for d in job.get("dns_sd_configs", []) for n in d["names"]]
    return static + dns


def test_prometheus_scrapes_each_sfpms_service_on_the_port_it_serves() -> None:
    from tests.unit.ops.test_compose import served_port

    targets = {t for job in PROMETHEUS["scrape_configs"] for t in _targets(job)}
    for service in ("cdc", "worker", "sinks", "dashboard"):
        assert f"{service}:{served_port(service)}" in targets, service


def test_prometheus_sends_the_dashboard_token_it_is_given_as_a_secret() -> None:
    job = next(j for j in PROMETHEUS["scrape_configs"] if j["job_name"] == "sfpms-dashboard")
    secret_file = Path(job["authorization"]["credentials_file"])
    assert job["authorization"]["type"] == "Bearer"
    assert secret_file.parent == Path("/run/secrets")  # where Compose mounts secrets
    assert secret_file.name in SERVICES["prometheus"]["secrets"]
    source = COMPOSE["secrets"][secret_file.name]
    assert "SFPMS_DASHBOARD_TOKEN" in environment_of(SERVICES["dashboard"])
    assert source == {"environment": "SFPMS_DASHBOARD_TOKEN"}


def test_prometheus_loads_the_alert_rules_and_sends_alerts_to_alertmanager() -> None:
    mounts = volume_targets(SERVICES["prometheus"])
    for rule_file in PROMETHEUS["rule_files"]:
        assert Path(ROOT, mounts[rule_file]).is_file(), rule_file
    assert mounts["/etc/prometheus/prometheus.yml"] == "./deploy/prometheus.yml"
    managers = [t for m in PROMETHEUS["alerting"]["alertmanagers"] for t in _targets(m)]
    assert managers == ["alertmanager:9093"]
    am = volume_targets(SERVICES["alertmanager"])
    assert Path(ROOT, am["/etc/alertmanager/alertmanager.yml"]).is_file()


def test_grafana_reads_prometheus_and_the_dashboards_directory_it_mounts() -> None:
    root = ROOT / "deploy" / "grafana" / "provisioning"
    source = yaml.safe_load((root / "datasources" / "prometheus.yml").read_text())
    assert source["datasources"][0]["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((root / "dashboards" / "sfpms.yml").read_text())
    mounts = volume_targets(SERVICES["grafana"])
    path = provider["providers"][0]["options"]["path"]
    assert mounts[path] == "./deploy/grafana/dashboards"
    assert mounts["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"
    assert environment_of(SERVICES["grafana"])["GF_SECURITY_ADMIN_PASSWORD"]
    for dashboard in (ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"):
        panels = json.loads(dashboard.read_text())["panels"]
        uids = {p["datasource"]["uid"] for p in panels if "targets" in p}
        assert uids == {source["datasources"][0]["uid"]}, dashboard.name


def _run_registry_entrypoint(tmp_path: Path, env: dict[str, str]) -> str:
    """The registry's entrypoint as its container runs it (Compose turns `$$` into `$`),
    writing into tmp_path instead of /tmp and exiting where it would start the registry."""
    script = SERVICES["schema-registry"]["entrypoint"][2].replace("$$", "$")
    assert script.count("exec /etc/confluent/docker/run") == 1
    script = script.replace("/tmp/", f"{tmp_path}/").replace(
        "exec /etc/confluent/docker/run", "exit 0"
    )
    done = subprocess.run(
        ["sh", "-c", script], env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, timeout=10
    )
    assert done.returncode == 0, done.stderr
    return script


def test_the_registry_entrypoint_writes_the_login_the_jaas_file_names_privately(
    tmp_path: Path,
) -> None:
    env = environment_of(SERVICES["schema-registry"])
    assert env["SCHEMA_REGISTRY_AUTHENTICATION_METHOD"] == "BASIC"
    user, password = env["REGISTRY_USER"], env["REGISTRY_PASSWORD"]
    assert (user, password) == (
        EXAMPLE_ENV["SFPMS_SCHEMA_REGISTRY_USER"],
        EXAMPLE_ENV["SFPMS_SCHEMA_REGISTRY_PASSWORD"],
    )  # the login the sfpms services are given
    _run_registry_entrypoint(tmp_path, {"REGISTRY_USER": user, "REGISTRY_PASSWORD": password})
    jaas = (ROOT / "deploy" / "schema-registry" / "jaas.conf").read_text()
    login_file = re.search(r'file="/tmp/([^"]+)"', jaas)
    assert login_file is not None
    written = tmp_path / login_file[1]
    assert written.read_text() == f"{user}: {password},admin\n"  # Jetty's user: password,role
    for path in tmp_path.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_the_registry_healthcheck_logs_in_and_keeps_the_password_off_its_command_line(
    tmp_path: Path,
) -> None:
    env = environment_of(SERVICES["schema-registry"])
    user, password = env["REGISTRY_USER"], env["REGISTRY_PASSWORD"]
    test = [str(a) for a in SERVICES["schema-registry"]["healthcheck"]["test"]]
    assert test[0] == "CMD" and password not in " ".join(test)
    _run_registry_entrypoint(tmp_path, {"REGISTRY_USER": user, "REGISTRY_PASSWORD": password})
    argv = [a.replace("/tmp/", f"{tmp_path}/") for a in test[1:]]
    port = httpx.URL(env["SCHEMA_REGISTRY_LISTENERS"]).port
    for login, healthy in ((password, True), ("another-password", False)):
        auth = BasicAuth(user, SecretStr(login))
        with serve_in_thread(create_registry_app(Registry(MemoryLog()), auth=auth)) as server:
            command = [a.replace(f"http://localhost:{port}", server.url) for a in argv]
            done = subprocess.run(command, capture_output=True, timeout=20)
        assert (done.returncode == 0) is healthy, (login, done.stderr)
