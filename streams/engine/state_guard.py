"""Local link-table state that is ahead of the broker is dropped before the worker starts.

Each engine worker keeps its share of the link table in RocksDB with the changelog offset
it last applied. If the broker later lost acknowledged changelog records (noida-db loses the
last write before a SIGTERM; Apache Kafka can after an unclean leader election), that
offset is above the changelog's end and Faust refuses to recover the partition
(`ConsistencyError`), so the worker could never start again. The broker's changelog is the
truth the rest of the deployment sees: such a partition's local database is removed here
and rebuilt from the changelog by Faust's normal recovery. Writes the lost state had led to
are decided again; creates carry idempotency keys, so nothing is created twice.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

log = logging.getLogger(__name__)

#: Where Faust's RocksDB store keeps the last applied changelog offset of a partition.
OFFSET_KEY = b"__faust\0offset__"
_DB_NAME = re.compile(r"^(?P<table>.+)-(?P<partition>\d+)\.db$")

#: (changelog topic, partition) -> the offset the next record would get (high watermark).
HighWatermark = Callable[[str, int], int]


def persisted_offset(path: Path) -> int | None:
    """The changelog offset a partition's RocksDB last applied (None if it holds none)."""
    from rocksdict import AccessType, Options, Rdict

    db = Rdict(str(path), options=Options(raw_mode=True), access_type=AccessType.read_only())
    try:
        raw = db.get(OFFSET_KEY)
    finally:
        db.close()
    return int(raw) if raw is not None else None


def drop_state_ahead_of_changelog(
    tables_dir: Path, changelogs: dict[str, str], high_watermark: HighWatermark
) -> list[Path]:
    """Remove every partition database of `changelogs` (table name -> changelog topic)
    whose persisted offset is at or beyond the changelog's end; returns what was removed."""
    removed: list[Path] = []
    for path in _partition_dbs(tables_dir):
        match = _DB_NAME.match(path.name)
        assert match is not None
        topic = changelogs.get(match["table"])
        if topic is None:
            continue
        partition = int(match["partition"])
        offset = persisted_offset(path)
        if offset is None:
            continue
        end = high_watermark(topic, partition)
        if offset >= end:
            log.warning(
                "link table %s partition %d: local state is at changelog offset %d but the "
                "broker's changelog ends before it (next offset %d): the broker lost "
                "acknowledged records; rebuilding this partition from the changelog",
                match["table"],
                partition,
                offset,
                end,
            )
            shutil.rmtree(path)
            removed.append(path)
    return removed


def _partition_dbs(tables_dir: Path) -> Iterable[Path]:
    if not tables_dir.is_dir():
        return []
    return sorted(p for p in tables_dir.iterdir() if p.is_dir() and _DB_NAME.match(p.name))
