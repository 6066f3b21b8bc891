"""Embedded components for the local default: broker, schema registry, process supervision."""
