"""Kafka plumbing shared by every component: topic catalogue, admin, client configs."""
