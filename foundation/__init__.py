"""Shared foundations below everything: errors, settings, logging, metrics, Kafka helpers
and the wire contracts. Imports nothing of the product (import-linter checks it)."""
