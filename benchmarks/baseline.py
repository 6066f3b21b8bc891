"""Raw baselines on the same machine and broker, with the same Avro change envelopes:

- `produce` / `consume`: confluent-kafka producing (acks=all, idempotent) and consuming them
  without decoding: the physical limit of the broker and client here;
- `hand_loop`: what a user might write instead of this product: a confluent-kafka consumer
  that decodes each envelope with fastavro, maps 8 fields, encodes a command, produces it
  and commits, with no link table, no echo suppression and no error handling.
Usage: python -m benchmarks.baseline [--engine noida-db|tansu] [--n 50000]
"""

from __future__ import annotations

import argparse
import io
import time
from typing import Any, cast

from confluent_kafka import Consumer, Producer
from fastavro import schemaless_reader, schemaless_writer

from benchmarks.harness import (
    Counter,
    bench_env,
    now,
    produce_envelopes,
    report,
    sf_id,
    task_envelope,
)
from foundation.kafka import topics as t
from foundation.kafka.schemas import parsed
from foundation.settings import BrokerEngine, Settings

STATUS = {"Not Started": "planned", "In Progress": "active", "Completed": "completed"}
PRIORITY = {"High": "high", "Normal": "medium", "Low": "low"}


def project_command(envelope: dict[str, Any]) -> dict[str, Any]:
    """The Project create the hand loop maps a Task change to: the engine's WriteCommand
    shape (one op), so the loop pays the same encoding cost."""
    after = envelope["after"]
    command = {
        "command_id": after["Id"],
        "link_key": after["Id"],
        "system": "custompms",
        "cause": None,
        "issued_at": envelope["ts_ms"],
        "ops": [
            {
                "flow": "task_project",
                "entity": "project",
                "action": "create",
                "target_id": None,
                "external_id_field": None,
                "external_id": None,
                "idempotency_key": f"task_project:{after['Id']}:create:0",
                "if_match": None,
                "fields": {
                    "name": after["Subject"],
                    "description": after["Description"],
                    "status": STATUS.get(after["Status"], "planned"),
                    "priority": PRIORITY.get(after["Priority"], "medium"),
                    "due_date": None,
                    "owner": after["OwnerId"],
                    "kind": "task",
                    "active": True,
                },
                "match": {},
                "refs": {},
            }
        ],
    }
    return command


def hand_loop(settings: Settings, n: int) -> float:
    """Consume-decode-map-encode-produce-commit; returns seconds for n records."""
    source = settings.topic(t.changes_topic("salesforce", "task"))
    target = settings.topic(t.writes_topic("custompms"))
    consumer = Consumer(settings.consumer_config(settings.topic("hand-loop")))
    producer = Producer(settings.producer_config())
    reader = parsed("sfpms.salesforce.TaskChange")
    writer = parsed("sfpms.WriteCommand")
    consumer.subscribe([source])
    done = 0
    started = None
    while done < n:
        messages = consumer.consume(500, 1.0)
        if messages and started is None:
            started = time.monotonic()
        for msg in messages:
            if msg.error():
                continue
            value = msg.value()
            assert value is not None
            envelope = cast(
                "dict[str, Any]", schemaless_reader(io.BytesIO(value[5:]), reader, None)
            )
            command = project_command(envelope)
            buffer = io.BytesIO()
            buffer.write(b"\x00\x00\x00\x00\x01")
            schemaless_writer(buffer, writer, command)
            producer.produce(target, key=msg.key(), value=buffer.getvalue())
            done += 1
        producer.poll(0)
        if messages:
            producer.flush(30)
            consumer.commit(asynchronous=False)
    consumer.close()
    assert started is not None
    return time.monotonic() - started


def run(engine: BrokerEngine, n: int) -> dict[str, float]:
    with bench_env(engine, "baseline") as bench:
        stamp = now()
        records = [(sf_id(i), task_envelope(sf_id(i), f"Task {i}", stamp)) for i in range(n)]
        topic = t.changes_topic("salesforce", "task")
        produce_s = produce_envelopes(bench.settings, topic, records)
        counter = Counter(bench.settings, topic)
        started = time.monotonic()
        counter.wait(n, 300)
        consume_s = counter.last_arrival - started
        counter.close()
        loop_s = hand_loop(bench.settings, n)
        return {
            "records": float(n),
            "produce_per_s": n / produce_s,
            "consume_per_s": n / consume_s,
            "hand_loop_per_s": n / loop_s,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", default="noida-db", choices=["noida-db", "tansu"])
    parser.add_argument("--n", type=int, default=50000)
    args = parser.parse_args()
    report(f"baseline[{args.engine}]", run(args.engine, args.n))


if __name__ == "__main__":
    main()
