"""An unmodified third-party Pub/Sub client (PyPI `sfprotostash` stubs + `avro`) works.

It runs in its own process, importing nothing of sfpms, so the check depends on no code of
ours (not even a shared protobuf class: the descriptors are identical, see
tests/unit/salesforce/test_pubsub_proto.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.salesforce.pubsub_support import TOPIC, RunningPubSub

pytestmark = pytest.mark.integration
SUBSCRIBER = Path(__file__).with_name("sfprotostash_subscriber.py")


def test_sfprotostash_subscriber_reads_events_written_over_rest(sfps: RunningPubSub) -> None:
    token = sfps.sf.token()
    created = sfps.sf.api(
        "POST", "/sobjects/Task", token, client="thirdparty", json={"Subject": "a"}
    )
    task_id = created.json()["id"]
    updated = sfps.sf.api(
        "PATCH", f"/sobjects/Task/{task_id}", token, client="thirdparty", json={"Subject": "b"}
    )
    assert updated.status_code == 204
    env = {
        **os.environ,
        "PUBSUB_ENDPOINT": sfps.endpoint,
        "PUBSUB_CA_FILE": str(sfps.sf.cert),
        "PUBSUB_TOKEN": token,
        "PUBSUB_INSTANCE_URL": sfps.sf.url,
        "PUBSUB_TENANT": sfps.state.org_id,
        "PUBSUB_TOPIC": TOPIC,
        "PUBSUB_EVENTS": "2",
    }
    done = subprocess.run(
        [sys.executable, str(SUBSCRIBER)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["topic"] == TOPIC
    create, update = result["events"]
    assert create["schema_id"] == update["schema_id"] == result["schema_id"]
    assert create["change_type"] == "CREATE" and create["record_ids"] == [task_id]
    assert create["subject"] == "a" and create["changed"] == []
    assert update["change_type"] == "UPDATE" and update["subject"] == "b"
    assert set(update["changed"]) == {"LastModifiedDate", "Subject"}
    assert update["change_origin"] == "com/salesforce/api/rest/60.0;client=thirdparty"
    assert int(update["replay_id"], 16) > int(create["replay_id"], 16)
    assert update["pending"] == 0
