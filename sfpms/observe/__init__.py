"""Observability of the running sync: consumer lag, Burrow statuses, dead letters, metrics.

- `burrow`: Burrow's partition evaluation rules as a pure function over a commit window.
- `timelag`: kafka-lag-exporter style lag in seconds from sampled end offsets.
- `groups`: which consumer groups and topics belong to the product and to each flow.
- `offsets`: the Kafka I/O (AdminClient) that reads committed and end offsets.
- `tracker` / `report`: turn successive offset snapshots into a `LagReport`.
- `sampler`: the dashboard's background poller with a bounded in-memory history.
- `deadletters`, `scrape`, `exposition`: dead-letter list, other processes' /metrics, and
  the Prometheus text this process serves.

docs/operations-dashboard.md explains every figure for operators.
"""
