"""The Kubernetes manifests, rendered by kustomize (kubectl's) and validated against the
Kubernetes OpenAPI schemas by kubernetes-validate (strict: unknown fields are errors), then
checked for what the product needs: stable member ids for the engine, its RocksDB volume
at the data directory, one capture instance, probes on the health endpoints, the mapping
mounted where SFPMS_MAPPING_FILE points, credentials from a Secret."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import kubernetes_validate
import pytest
import yaml

from foundation.settings import Settings
from sfpms.dashboard.auth import allowed_hosts, host_name
from tests.integration.deploy.conftest import ROOT

pytestmark = pytest.mark.integration

OVERLAY = ROOT / "deploy" / "k8s" / "overlays" / "example"
WORKLOADS = {"StatefulSet", "Deployment"}
#: The mapping file setting lands with the mapping-as-a-file work (config/mapping.yaml).
PENDING_SETTINGS = {"mapping_file"}


@pytest.fixture(scope="module")
def rendered(kubectl: Path) -> list[dict[str, Any]]:
    done = subprocess.run(
        [str(kubectl), "kustomize", str(OVERLAY)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def _by(rendered: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(d for d in rendered if d["kind"] == kind and d["metadata"]["name"] == name)


def _generated(rendered: list[dict[str, Any]], kind: str, prefix: str) -> dict[str, Any]:
    """A generator's output, whose name kustomize suffixes with a content hash."""
    return next(
        d for d in rendered if d["kind"] == kind and d["metadata"]["name"].startswith(prefix + "-")
    )


def _container(workload: dict[str, Any]) -> dict[str, Any]:
    (container,) = workload["spec"]["template"]["spec"]["containers"]
    return container


@pytest.mark.timeout(900)  # a machine without kubectl installs Debian's first
def test_every_rendered_resource_is_valid_kubernetes(rendered: list[dict[str, Any]]) -> None:
    version = kubernetes_validate.latest_version()
    for doc in rendered:
        kubernetes_validate.validate(doc, version, strict=True)
    kinds = {d["kind"] for d in rendered}
    assert {"StatefulSet", "Deployment", "ConfigMap", "Secret", "Service"} <= kinds


def test_an_invalid_manifest_is_caught_by_the_validator() -> None:
    broken = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {"replicas": "three", "selector": {}, "template": {}},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, kubernetes_validate.latest_version(), strict=True)


def test_the_engine_is_a_statefulset_with_stable_member_ids_and_a_rocksdb_volume(
    rendered: list[dict[str, Any]],
) -> None:
    engine = _by(rendered, "StatefulSet", "sfpms-engine")
    container = _container(engine)
    env = {e["name"]: e for e in container["env"]}
    assert env["SFPMS_INSTANCE_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    settings = _generated(rendered, "ConfigMap", "sfpms-settings")["data"]
    (claim,) = engine["spec"]["volumeClaimTemplates"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]] == settings["SFPMS_DATA_DIR"]
    replicas = engine["spec"]["replicas"]
    assert 2 <= replicas <= int(settings["SFPMS_PARTITIONS"])
    assert (
        engine["spec"]["serviceName"]
        == _by(rendered, "Service", "sfpms-engine")["metadata"]["name"]
    )


def test_capture_runs_as_exactly_one_instance(rendered: list[dict[str, Any]]) -> None:
    cdc = _by(rendered, "Deployment", "sfpms-cdc")
    assert cdc["spec"]["replicas"] == 1
    assert cdc["spec"]["strategy"]["type"] == "Recreate"  # never two at once, even in a rollout


def test_sinks_are_a_deployment_that_can_scale(rendered: list[dict[str, Any]]) -> None:
    sinks = _by(rendered, "Deployment", "sfpms-sinks")
    assert sinks["spec"]["replicas"] >= 2


def _served_port(container: dict[str, Any]) -> int:
    args = container["args"]
    option = next(o for o in ("--web-port", "--metrics-port", "--port") if o in args)
    return int(args[args.index(option) + 1])


def test_probes_hit_the_health_endpoints_on_the_port_each_command_serves(
    rendered: list[dict[str, Any]],
) -> None:
    for workload in (d for d in rendered if d["kind"] in WORKLOADS):
        container = _container(workload)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        name = workload["metadata"]["name"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        for probe in ("readinessProbe", "livenessProbe"):
            port = container[probe]["httpGet"]["port"]
            assert ports[port] == _served_port(container), f"{name} {probe}"


def test_the_dashboard_answers_its_probes_and_its_service_name_past_the_host_check(
    rendered: list[dict[str, Any]],
) -> None:
    dashboard = _by(rendered, "Deployment", "sfpms-dashboard")
    container = _container(dashboard)
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    settings = Settings(dashboard_allowed_hosts=env["SFPMS_DASHBOARD_ALLOWED_HOSTS"])
    hosts = allowed_hosts(settings, "0.0.0.0")
    service = _by(rendered, "Service", "sfpms-dashboard")["metadata"]["name"]
    assert service in hosts  # in-cluster clients (Prometheus) use the Service name
    for probe in ("readinessProbe", "livenessProbe"):
        headers = {h["name"]: h["value"] for h in container[probe]["httpGet"]["httpHeaders"]}
        assert host_name(headers["Host"]) in hosts, probe  # not the pod IP the kubelet sends


def test_the_mapping_is_mounted_where_the_mapping_setting_points(
    rendered: list[dict[str, Any]],
) -> None:
    settings = _generated(rendered, "ConfigMap", "sfpms-settings")["data"]
    path = PurePosixPath(settings["SFPMS_MAPPING_FILE"])
    mapping = _generated(rendered, "ConfigMap", "sfpms-mapping")
    assert path.name in mapping["data"]
    for workload in (d for d in rendered if d["kind"] in WORKLOADS):
        spec = workload["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in spec["volumes"]}
        mounts = {m["mountPath"]: m for m in _container(workload)["volumeMounts"]}
        mount = mounts[str(path.parent)]
        assert volumes[mount["name"]]["configMap"]["name"] == mapping["metadata"]["name"]
        assert mount["readOnly"] is True


def test_the_example_overlay_carries_the_repository_mapping() -> None:
    repository = ROOT / "config" / "mapping.yaml"
    shipped = (OVERLAY / "mapping.yaml").read_text()
    if repository.exists():
        assert shipped == repository.read_text(), "copy config/mapping.yaml into the overlay"
    else:
        assert "config/mapping.yaml" in shipped  # the placeholder says what belongs here


def test_credentials_come_from_a_secret_and_settings_are_ones_the_product_reads(
    rendered: list[dict[str, Any]],
) -> None:
    secret = _generated(rendered, "Secret", "sfpms-credentials")
    names = set(secret["data"])
    for required in (
        "SALESFORCE_CLIENT_SECRET",
        "SALESFORCE_PASSWORD",
        "CUSTOMPMS_TOKEN",
        "SCHEMA_REGISTRY_USER",
        "SCHEMA_REGISTRY_PASSWORD",
        "DASHBOARD_TOKEN",
    ):
        assert f"SFPMS_{required}" in names
    assert all(base64.b64decode(v) == b"CHANGE-ME" for v in secret["data"].values())
    settings = _generated(rendered, "ConfigMap", "sfpms-settings")["data"]
    known = set(Settings.model_fields) | PENDING_SETTINGS
    for variable in [*names, *settings]:
        assert variable.removeprefix("SFPMS_").lower() in known, variable
    for workload in (d for d in rendered if d["kind"] in WORKLOADS):
        sources = {next(iter(ref.values()))["name"] for ref in _container(workload)["envFrom"]}
        assert sources == {
            secret["metadata"]["name"],
            _generated(rendered, "ConfigMap", "sfpms-settings")["metadata"]["name"],
        }


def test_pods_run_as_the_image_user_without_privileges(rendered: list[dict[str, Any]]) -> None:
    user = re.search(r"^USER (\d+):(\d+)$", (ROOT / "Dockerfile").read_text(), re.M)
    assert user is not None
    for workload in (d for d in rendered if d["kind"] in WORKLOADS):
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsUser"] == int(user[1])
        assert pod["securityContext"]["fsGroup"] == int(user[2])  # volumes writable by it
        account = _by(rendered, "ServiceAccount", pod["serviceAccountName"])
        assert account["automountServiceAccountToken"] is False  # no API token in the pods
        container = _container(workload)
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
