"""Avro encoding of everything the engine reads and writes, through the schema registry."""

from __future__ import annotations

from typing import Any

from confluent_kafka.schema_registry import SchemaRegistryClient

from foundation.kafka import topics as t
from foundation.kafka.serde import AnyDecoder, TopicCodec, registry_client
from foundation.settings import Settings


class EngineCodecs:
    """Encoders for the engine's outputs; a writer-schema decoder for its inputs.

    Inputs are decoded with the schema their producer registered (the id is in the bytes),
    so a Custompms change forwarded through the inbox decodes the same as on its own topic.
    """

    def __init__(self, settings: Settings, client: SchemaRegistryClient | None = None) -> None:
        self.settings = settings
        self.client = client or registry_client(settings)
        self._decoder = AnyDecoder(self.client)
        self._encoders: dict[str, TopicCodec] = {}

    def decode(self, topic: str, data: bytes) -> dict[str, Any]:
        """Decode a Confluent-framed Avro value; raises on anything else."""
        return self._decoder.decode(data)

    def encode(self, topic: str, value: dict[str, Any]) -> bytes:
        """Encode a value for an (unprefixed) catalogue topic with its schema."""
        codec = self._encoders.get(topic)
        if codec is None:
            codec = self._encoders[topic] = TopicCodec(
                self.settings, self.client, topic, writers=self._decoder.writers
            )
        return codec.encode(value)

    def register_outputs(self) -> None:
        """Register every output schema up front, so the first record is not slowed."""
        for spec in t.catalogue():
            outputs = (t.RESULTS, t.ROUTES, t.INBOX, t.DEADLETTER)
            if spec.name.endswith(".writes") or spec.name in outputs:
                codec = TopicCodec(
                    self.settings, self.client, spec.name, writers=self._decoder.writers
                )
                self._encoders.setdefault(spec.name, codec).register()
