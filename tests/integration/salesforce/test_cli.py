"""`sfpms emulate salesforce` as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from sfpms.embedded.broker import free_port, port_open

pytestmark = pytest.mark.integration


def test_cli_serves_https_with_a_reusable_certificate_and_a_durable_store(tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "sf"
    command = [
        sys.executable, "-m", "sfpms", "emulate", "salesforce",
        "--port", str(port), "--data-dir", str(data_dir), "--no-seed", "--api-limit", "50",
    ]  # fmt: skip
    env = {**os.environ, "SFPMS_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not port_open(port):
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "emulator did not start"
            time.sleep(0.1)
        cert = data_dir / "cert.pem"
        assert cert.exists() and (data_dir / "key.pem").exists()
        assert (data_dir / "salesforce.db").exists()
        with requests.Session() as session:
            session.verify, session.trust_env = str(cert), False
            # An idle TLS keep-alive connection would delay the server's graceful shutdown.
            session.headers["Connection"] = "close"
            token = session.post(
                f"https://127.0.0.1:{port}/services/oauth2/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": "sfpms-local",
                    "client_secret": "sfpms-local-secret",
                },
            ).json()
            assert token["instance_url"] == f"https://127.0.0.1:{port}"
            limits = session.get(
                f"{token['instance_url']}/services/data/v60.0/limits",
                headers={"Authorization": f"Bearer {token['access_token']}"},
            )
            assert limits.json()["DailyApiRequests"]["Max"] == 50
    finally:
        process.terminate()
        process.wait(timeout=15)
