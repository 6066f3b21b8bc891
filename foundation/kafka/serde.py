"""Avro (de)serialization through the schema registry, in Confluent's wire format.

Every value is: magic byte 0, the 4-byte schema id, then the Avro binary body, so any
Confluent-compatible consumer (confluent-kafka's AvroDeserializer, Kafka Connect, ksqlDB)
reads what we write, and we read what they write. Schemas are registered (or looked up)
through confluent-kafka's SchemaRegistryClient under the topic-name strategy
(`<topic>-value`).

The encoding itself is done with fastavro directly, on schemas parsed once per id: the
engine decodes and encodes every record it handles, and confluent-kafka's AvroSerializer /
AvroDeserializer cost about three times as much per record (docs/benchmarks.md, profile of
the engine hop), mostly in per-call bookkeeping around the same fastavro calls.
"""

from __future__ import annotations

import io
import json
import struct
import threading
from typing import Any

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from fastavro import parse_schema, schemaless_reader, schemaless_writer

from foundation.kafka.schemas import parsed, schema_for_topic, schema_str
from foundation.settings import Settings

MAGIC = 0
_HEADER = struct.Struct(">bI")


def registry_client(settings: Settings) -> SchemaRegistryClient:
    """A SchemaRegistryClient for the configured (or embedded) registry."""
    return SchemaRegistryClient(settings.registry_client_config())


class WireFormatError(ValueError):
    """Bytes that are not a Confluent-framed Avro value."""


class WriterSchemas:
    """Parsed writer schemas by registry id, fetched once per id (thread-safe)."""

    def __init__(self, client: SchemaRegistryClient) -> None:
        self.client = client
        self._parsed: dict[int, Any] = {}
        self._lock = threading.Lock()

    def get(self, schema_id: int) -> Any:
        found = self._parsed.get(schema_id)
        if found is not None:
            return found
        with self._lock:
            found = self._parsed.get(schema_id)
            if found is None:
                text = self.client.get_schema(schema_id).schema_str
                if text is None:
                    raise WireFormatError(f"schema id {schema_id} has no schema text")
                found = self._parsed[schema_id] = parse_schema(json.loads(text))
        return found


def split(data: bytes) -> tuple[int, memoryview]:
    """(schema id, Avro body) of a Confluent-framed value."""
    if len(data) < _HEADER.size:
        raise WireFormatError(f"{len(data)} bytes is too short for a Confluent-framed value")
    magic, schema_id = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise WireFormatError(f"unknown magic byte {magic}; not a Confluent-framed Avro value")
    return schema_id, memoryview(data)[_HEADER.size :]


def decode_body(body: memoryview, writer: Any, reader: Any | None = None) -> dict[str, Any]:
    buffer = io.BytesIO(body)
    value = schemaless_reader(buffer, writer, reader)
    if buffer.tell() != len(body):
        raise WireFormatError(f"{len(body) - buffer.tell()} trailing bytes after the Avro record")
    if not isinstance(value, dict):
        raise WireFormatError(f"expected an Avro record, got {type(value).__name__}")
    return value


class TopicCodec:
    """Encode/decode the values of one catalogue topic with its registered schema."""

    def __init__(
        self,
        settings: Settings,
        client: SchemaRegistryClient,
        topic: str,
        schema_name: str | None = None,
        writers: WriterSchemas | None = None,
    ) -> None:
        self.topic = settings.topic(topic)
        self.schema_name = schema_name or schema_for_topic(topic)
        self._client = client
        self._writers = writers or WriterSchemas(client)
        self._schema = parsed(self.schema_name)
        self._header: bytes | None = None
        self._id: int | None = None

    def register(self) -> int:
        """Register (or find) this topic's schema; returns its id."""
        if self._id is None:
            subject = f"{self.topic}-value"
            self._id = int(
                self._client.register_schema(subject, Schema(schema_str(self.schema_name), "AVRO"))
            )
            self._header = _HEADER.pack(MAGIC, self._id)
        return self._id

    def encode(self, value: dict[str, Any]) -> bytes:
        if self._header is None:
            self.register()
        assert self._header is not None
        buffer = io.BytesIO()
        buffer.write(self._header)
        schemaless_writer(buffer, self._schema, value)
        return buffer.getvalue()

    def decode(self, data: bytes) -> dict[str, Any]:
        """Decode with the writer's schema, resolved to this topic's schema when they differ."""
        schema_id, body = split(data)
        if schema_id == self._id:
            return decode_body(body, self._schema)
        return decode_body(body, self._writers.get(schema_id), self._schema)


class AnyDecoder:
    """Decodes a Confluent-framed value of any topic with the schema its writer used."""

    def __init__(self, client: SchemaRegistryClient) -> None:
        self.writers = WriterSchemas(client)

    def decode(self, data: bytes) -> dict[str, Any]:
        schema_id, body = split(data)
        return decode_body(body, self.writers.get(schema_id))
