"""confluent-kafka's own registry client and Avro serializers against the embedded registry,
with schemas stored in a real broker and records produced to and consumed from it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from foundation.kafka import topics
from foundation.kafka.admin import ensure_topics
from foundation.kafka.schemas import schema_str
from foundation.settings import Settings
from foundation.wire import WriteCommand, WriteOp
from sfpms.registry.app import Registry, create_registry_app
from sfpms.registry.log import KafkaLog
from tests.support.servers import ThreadedServer, serve_in_thread

pytestmark = [pytest.mark.integration, pytest.mark.smoke]


@pytest.fixture
def registry_url(settings: Settings) -> Iterator[str]:
    with serve_in_thread(create_registry_app(Registry(KafkaLog(settings)))) as server:
        yield server.url


def test_avro_records_round_trip_through_registry_and_broker(
    settings: Settings, registry_url: str
) -> None:
    topic_name = topics.changes_topic("salesforce", "task")
    ensure_topics(settings, [s for s in topics.catalogue() if s.name == topic_name])
    topic = settings.topic(topic_name)
    client = SchemaRegistryClient({"url": registry_url})
    serializer = AvroSerializer(client, schema_str("sfpms.salesforce.TaskChange"))
    deserializer = AvroDeserializer(client)
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    sent: list[dict[str, Any]] = [
        {
            "op": "c",
            "before": None,
            "after": {"Id": f"00T{i:015d}", "Subject": f"Task {i}", "SystemModstamp": now},
            "source": {"system": "salesforce", "entity": "Task", "id": f"00T{i:015d}"},
            "ts_ms": now,
        }
        for i in range(20)
    ]
    producer = Producer(settings.producer_config())
    ctx = SerializationContext(topic, MessageField.VALUE)
    for record in sent:
        producer.produce(topic, key=record["source"]["id"].encode(), value=serializer(record, ctx))
    assert producer.flush(15) == 0

    consumer = Consumer(settings.consumer_config("t-registry"))
    consumer.subscribe([topic])
    received = []
    for _ in range(300):
        msg = consumer.poll(0.2)
        if msg is not None and not msg.error():
            received.append(deserializer(msg.value(), ctx))
        if len(received) == len(sent):
            break
    consumer.close()
    assert sorted(r["after"]["Subject"] for r in received) == sorted(
        r["after"]["Subject"] for r in sent
    )
    assert all(r["after"]["SystemModstamp"] == now for r in received)
    assert client.get_latest_version(f"{topic}-value").version == 1


def test_incompatible_change_is_refused_with_409(settings: Settings, registry_url: str) -> None:
    client = SchemaRegistryClient({"url": registry_url})
    subject = f"{settings.topic_prefix}compat-value"
    v1 = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "string"}]}
    client.register_schema(subject, Schema(json.dumps(v1), "AVRO"))
    v2 = {**v1, "fields": [*v1["fields"], {"name": "added", "type": "long"}]}
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema(subject, Schema(json.dumps(v2), "AVRO"))
    assert refused.value.http_status_code == 409
    assert refused.value.error_code == 409
    assert client.test_compatibility(subject, Schema(json.dumps(v2), "AVRO")) is False


def test_restart_keeps_schema_ids_stable(settings: Settings) -> None:
    subject = f"{settings.topic_prefix}stable-value"
    first = Registry(KafkaLog(settings))
    schema_id = first.register(subject, schema_str("sfpms.WriteCommand"))
    other_id = first.register(subject + "2", schema_str("sfpms.WriteResult"))
    server = ThreadedServer(create_registry_app(Registry(KafkaLog(settings))))
    server.start()
    try:
        client = SchemaRegistryClient({"url": server.url})
        assert client.get_latest_version(subject).schema_id == schema_id
        assert client.get_schema(other_id).schema_str == schema_str("sfpms.WriteResult")
        registered = client.register_schema(
            subject, Schema(schema_str("sfpms.WriteCommand"), "AVRO")
        )
        assert registered == schema_id
    finally:
        server.stop()


def test_our_codec_and_confluents_serializers_read_each_other(
    settings: Settings, registry_url: str
) -> None:
    from foundation.kafka.serde import TopicCodec, WireFormatError

    configured = settings.model_copy(update={"schema_registry_url": registry_url})
    client = SchemaRegistryClient({"url": registry_url})
    topic_name = topics.writes_topic("custompms")
    ours = TopicCodec(configured, client, topic_name)
    ctx = SerializationContext(configured.topic(topic_name), MessageField.VALUE)
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    update = WriteOp(
        "task_project", "project", "update", "prj_000001", fields={"name": "N", "n": 3}
    )
    at = int(now.timestamp() * 1000)
    command = WriteCommand("c1", "00T1", "custompms", (update,), at).to_avro()
    theirs = AvroDeserializer(client)(ours.encode(command), ctx)
    assert theirs["ops"][0]["fields"] == {"name": "N", "n": 3} and theirs["issued_at"] == now
    serialized = AvroSerializer(client, schema_str("sfpms.WriteCommand"))(command, ctx)
    assert WriteCommand.from_avro(ours.decode(serialized)).ops[0].target_id == "prj_000001"
    with pytest.raises(WireFormatError):
        ours.decode(b"\x01\x00\x00\x00\x01garbage")
    with pytest.raises(WireFormatError):
        ours.decode(ours.encode(command) + b"trailing")
