"""A Pub/Sub API subscriber built only from third-party parts, run as its own process.

It uses the pre-generated stubs of the PyPI package `sfprotostash` (generated from
Salesforce's own pubsub_api.proto, unchanged), `grpcio` and Apache `avro` (the decoder
Salesforce's Python examples use), and decodes `changedFields` the way Salesforce's
documentation describes (hex -> bits, least significant first -> schema field positions).
Nothing of sfpms is imported, so it checks the emulator's wire format independently.

Reads PUBSUB_ENDPOINT, PUBSUB_CA_FILE, PUBSUB_TOKEN, PUBSUB_INSTANCE_URL, PUBSUB_TENANT,
PUBSUB_TOPIC, PUBSUB_EVENTS from the environment; prints one JSON document.
"""

from __future__ import annotations

import io
import json
import os
import sys
import threading
from typing import Any

import avro.io
import avro.schema
import grpc
from sfprotostash import pubsub_api_pb2 as pb2
from sfprotostash import pubsub_api_pb2_grpc as pb2_grpc


def field_names(bitmap: list[str], schema: Any) -> list[str]:
    names = []
    for entry in bitmap:
        if entry.startswith("0x"):
            bits = bin(int(entry[2:], 16))[2:][::-1]
            names += [schema.fields[i].name for i, bit in enumerate(bits) if bit == "1"]
    return names


def main() -> int:
    env = os.environ
    with open(env["PUBSUB_CA_FILE"], "rb") as handle:
        credentials = grpc.ssl_channel_credentials(handle.read())
    metadata = (
        ("accesstoken", env["PUBSUB_TOKEN"]),
        ("instanceurl", env["PUBSUB_INSTANCE_URL"]),
        ("tenantid", env["PUBSUB_TENANT"]),
    )
    topic_name, wanted = env["PUBSUB_TOPIC"], int(env["PUBSUB_EVENTS"])
    with grpc.secure_channel(env["PUBSUB_ENDPOINT"], credentials) as channel:
        stub = pb2_grpc.PubSubStub(channel)
        topic = stub.GetTopic(pb2.TopicRequest(topic_name=topic_name), metadata=metadata)
        info = stub.GetSchema(pb2.SchemaRequest(schema_id=topic.schema_id), metadata=metadata)
        schema = avro.schema.parse(info.schema_json)
        done = threading.Event()

        def requests() -> Any:
            yield pb2.FetchRequest(
                topic_name=topic_name,
                replay_preset=pb2.ReplayPreset.EARLIEST,
                num_requested=wanted,
            )
            done.wait(30)

        events = []
        stream = stub.Subscribe(requests(), metadata=metadata, timeout=30)
        for response in stream:
            for item in response.events:
                record: Any = avro.io.DatumReader(schema).read(
                    avro.io.BinaryDecoder(io.BytesIO(item.event.payload))
                )
                header = record["ChangeEventHeader"]
                events.append(
                    {
                        "schema_id": item.event.schema_id,
                        "replay_id": item.replay_id.hex(),
                        "change_type": header["changeType"],
                        "record_ids": header["recordIds"],
                        "change_origin": header["changeOrigin"],
                        "changed": field_names(header["changedFields"], schema),
                        "subject": record.get("Subject"),
                        "pending": response.pending_num_requested,
                    }
                )
            if len(events) >= wanted:
                break
        done.set()
        stream.cancel()
    print(json.dumps({"topic": topic.topic_name, "schema_id": topic.schema_id, "events": events}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
