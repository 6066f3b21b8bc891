"""An embedded Confluent-compatible schema registry, persisted in the `_schemas` Kafka topic.

Production runs Confluent Schema Registry or Karapace; none installs on the local machines,
so this serves the REST subset confluent-kafka's SchemaRegistryClient, AvroSerializer and
AvroDeserializer use, with the same error bodies and codes, and stores schemas the way the
real one does: as keyed records in a compacted topic, so ids survive a restart.
"""
