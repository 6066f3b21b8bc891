"""Avro schemas (.avsc), shipped as package data and loaded as strings at start-up."""
