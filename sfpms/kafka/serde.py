"""Avro (de)serialization through the schema registry, in Confluent's wire format.

Uses confluent-kafka's own AvroSerializer/AvroDeserializer, so every record on a topic is
readable by any Confluent-compatible consumer: magic byte 0, 4-byte schema id, Avro body.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from sfpms.kafka.schemas import schema_for_topic, schema_str
from sfpms.settings import Settings


def registry_client(settings: Settings) -> SchemaRegistryClient:
    """A SchemaRegistryClient for the configured (or embedded) registry."""
    return SchemaRegistryClient(settings.registry_client_config())


class TopicCodec:
    """Encode/decode the values of one catalogue topic with its registered schema."""

    def __init__(
        self,
        settings: Settings,
        client: SchemaRegistryClient,
        topic: str,
        schema_name: str | None = None,
    ) -> None:
        self.topic = settings.topic(topic)
        self.schema_name = schema_name or schema_for_topic(topic)
        self._client = client
        self._context = SerializationContext(self.topic, MessageField.VALUE)

    @cached_property
    def _serializer(self) -> AvroSerializer:
        return AvroSerializer(
            self._client,
            schema_str(self.schema_name),
            conf={"auto.register.schemas": True, "normalize.schemas": False},
        )

    @cached_property
    def _deserializer(self) -> AvroDeserializer:
        return AvroDeserializer(self._client, schema_str(self.schema_name))

    def encode(self, value: dict[str, Any]) -> bytes:
        data = self._serializer(value, self._context)
        assert data is not None
        return bytes(data)

    def decode(self, data: bytes) -> dict[str, Any]:
        value = self._deserializer(data, self._context)
        assert isinstance(value, dict)
        return value

    def register(self) -> int:
        """Register (or find) this topic's schema; returns its id."""
        from confluent_kafka.schema_registry import Schema

        return int(
            self._client.register_schema(
                f"{self.topic}-value", Schema(schema_str(self.schema_name), "AVRO")
            )
        )
