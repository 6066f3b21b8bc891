"""A Faust RocksDB table store that files each key under its own partition.

Faust's RocksDB store keeps one database per partition and, on a write, picks the
partition of the event being processed. The engine's tables use `use_partitioner=True` and
write a batch's state after the batch (streams/engine/app.py), so "the current event" is
some other event of the batch, and a key could be filed under a partition it does not
belong to, then dropped locally when that partition moves away. This store files a key
under the partition its changelog record goes to (the producer's partitioner on the
serialised key), which is where recovery puts it too. Registered through Faust's
`faust.stores` entry point as `sfpms-rocksdb://` (pyproject.toml).
"""

from __future__ import annotations

from typing import Any

from faust.stores.rocksdb import Store as RocksDBStore


class KeyPartitionedRocksDB(RocksDBStore):
    """RocksDB store for `use_partitioner` tables written outside per-event iteration."""

    def _set(self, key: bytes, value: bytes | None) -> None:
        partition = self._partition_of(key)
        db = self._db_for_partition(partition)
        self._key_index[key] = partition
        db.put(key, value)

    def _partition_of(self, key: bytes) -> int:
        topic = self.table.changelog_topic.get_topic_name()
        tp: Any = self.app.producer.key_partition(topic, key)
        return int(tp.partition)
