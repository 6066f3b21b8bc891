"""`sfpms emulate salesforce --pubsub-port N` serves the Pub/Sub API beside REST."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
import requests

from connectors.salesforce.pubsub.proto import pubsub_api_pb2 as pb2
from connectors.salesforce.pubsub.proto import pubsub_api_pb2_grpc as pb2_grpc
from sfpms.embedded.broker import free_port, port_open
from tests.integration.salesforce.pubsub_support import TOPIC

pytestmark = pytest.mark.integration


def test_cli_serves_get_topic_over_tls_with_the_emulators_certificate(tmp_path: Path) -> None:
    port, pubsub_port = free_port(), free_port()
    data_dir = tmp_path / "sf"
    command = [
        sys.executable, "-m", "sfpms", "emulate", "salesforce", "--memory", "--no-seed",
        "--port", str(port), "--data-dir", str(data_dir), "--pubsub-port", str(pubsub_port),
    ]  # fmt: skip
    env = {**os.environ, "SFPMS_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not (port_open(port) and port_open(pubsub_port)):
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "emulator did not start"
            time.sleep(0.1)
        cert = data_dir / "cert.pem"
        with requests.Session() as session:
            session.verify, session.trust_env = str(cert), False
            session.headers["Connection"] = "close"
            token = session.post(
                f"https://127.0.0.1:{port}/services/oauth2/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": "sfpms-local",
                    "client_secret": "sfpms-local-secret",
                },
            ).json()
        org_id = token["id"].split("/")[-2]
        metadata = (
            ("accesstoken", token["access_token"]),
            ("instanceurl", token["instance_url"]),
            ("tenantid", org_id),
        )
        credentials = grpc.ssl_channel_credentials(cert.read_bytes())
        with grpc.secure_channel(f"127.0.0.1:{pubsub_port}", credentials) as channel:
            topic = pb2_grpc.PubSubStub(channel).GetTopic(
                pb2.TopicRequest(topic_name=TOPIC), metadata=metadata, timeout=10
            )
        assert topic.topic_name == TOPIC and topic.tenant_guid == org_id
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=15)
    assert f"Pub/Sub API (gRPC over TLS) on 127.0.0.1:{pubsub_port}" in out.decode()


def test_cli_refuses_a_plain_http_pubsub_api(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "sfpms", "emulate", "salesforce", "--memory", "--http",
        "--port", str(free_port()), "--pubsub-port", str(free_port()),
    ]  # fmt: skip
    env = {**os.environ, "SFPMS_DATA_DIR": str(tmp_path)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "TLS-only" in done.stderr
