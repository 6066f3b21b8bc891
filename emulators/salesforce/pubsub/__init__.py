"""The Salesforce Pub/Sub API (gRPC, `eventbus.v1.PubSub`) with Change Data Capture for Task.

See docs/salesforce-emulator.md, "Pub/Sub API". Parts: `avro_schema` (topic schemas),
`bitmap` and `changes` (pure event building), `eventlog` (stored stream and replay ids),
`bus` (the store hook), `auth`, `subscription` and `service` (the RPCs), `server`
(serving over TLS), `admin` (emulator-only routes).
"""
