"""Shipped configuration files (package data): `mapping.yaml`, the default mapping."""
