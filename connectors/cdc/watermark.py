"""Incremental polling on a (timestamp, id) watermark, with an overlap window. Pure.

The watermark is the greatest (SystemModstamp, Id) — or (updated_at, id) — published so far.
A poll cycle starts `overlap` before it (or exactly after it when the overlap is zero) and
pages forward with the keyset `stamp > X OR (stamp = X AND id > Y)`, so records sharing a
timestamp are neither skipped nor re-read forever, whatever the page size. Records re-read
inside the overlap are recognised by a fingerprint kept in a `DedupeWindow` and not
published twice.

The same generator (`new_records`) drives Salesforce SOQL polling and Custompms
`updated_since` polling; only the fetch function differs.
"""

# SOQL here is built from schema field names and soql_quote()d literals, never user text:
# ruff: noqa: S608

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connectors.salesforce.formats import soql_datetime, soql_quote


@dataclass(frozen=True, slots=True, order=True)
class Mark:
    """A point in (timestamp, id) order: the position of one record version."""

    stamp: datetime
    id: str


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a query starts: after (stamp, after_id), or at `stamp` inclusive when no id."""

    stamp: datetime
    after_id: str | None = None


# -- SOQL ---------------------------------------------------------------------------------


def keyset_condition(cursor: Cursor, stamp_field: str = "SystemModstamp") -> str:
    """The WHERE condition selecting records at or after `cursor`."""
    stamp = soql_datetime(cursor.stamp)
    if cursor.after_id is None:
        return f"{stamp_field} >= {stamp}"
    return (
        f"{stamp_field} > {stamp} OR "
        f"({stamp_field} = {stamp} AND Id > {soql_quote(cursor.after_id)})"
    )


def poll_soql(sobject: str, fields: tuple[str, ...], cursor: Cursor | None, limit: int) -> str:
    """One poll query page (for queryAll, so deleted records come too)."""
    where = f" WHERE {keyset_condition(cursor)}" if cursor is not None else ""
    return (
        f"SELECT {', '.join(fields)} FROM {sobject}{where} "
        f"ORDER BY SystemModstamp, Id LIMIT {limit}"
    )


def snapshot_soql(sobject: str, fields: tuple[str, ...], after_id: str | None, limit: int) -> str:
    """One snapshot page of live records, in Id order after `after_id`."""
    where = f" WHERE Id > {soql_quote(after_id)}" if after_id else ""
    return f"SELECT {', '.join(fields)} FROM {sobject}{where} ORDER BY Id LIMIT {limit}"


def head_soql(sobject: str) -> str:
    """The newest record of an sObject (deleted ones included, for queryAll)."""
    return f"SELECT Id, SystemModstamp FROM {sobject} ORDER BY SystemModstamp DESC, Id DESC LIMIT 1"


def record_digest(raw: Mapping[str, Any]) -> str:
    """A stable digest of a record's field values (`attributes` ignored).

    Part of the Salesforce fingerprint because SystemModstamp has one-second resolution in
    real orgs: two edits in the same second share (Id, SystemModstamp) but not their values.
    """
    body = {k: v for k, v in raw.items() if k != "attributes"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


# -- dedupe and the watermark -------------------------------------------------------------


class DedupeWindow:
    """Fingerprints of records published recently, forgotten once older than the window."""

    def __init__(self, span: timedelta) -> None:
        self.span = span
        self._stamps: dict[Hashable, datetime] = {}

    def __len__(self) -> int:
        return len(self._stamps)

    def __contains__(self, fingerprint: Hashable) -> bool:
        return fingerprint in self._stamps

    def add(self, fingerprint: Hashable, stamp: datetime) -> None:
        self._stamps[fingerprint] = stamp

    def prune(self, high: datetime) -> None:
        """Forget fingerprints older than `high - span` (no query reaches back that far)."""
        floor = high - self.span
        self._stamps = {k: s for k, s in self._stamps.items() if s >= floor}

    def clear(self) -> None:
        self._stamps.clear()


class StampTracker:
    """The watermark of one polled entity: published high mark, committed mark, dedupe.

    `high` moves as records are observed; `committed` is what the positions topic holds.
    After a failed cycle `rollback()` returns to `committed` and forgets the window, so the
    next cycle re-reads (and re-publishes) rather than skips.
    """

    def __init__(
        self, committed: Mark | None, overlap: timedelta, remember: timedelta | None = None
    ) -> None:
        self.overlap = overlap
        self.committed = committed
        self.high = committed
        # Fingerprints are kept as far back as any cycle re-reads (a sweep's lookback).
        self.window = DedupeWindow(max(overlap, remember or timedelta(0)))

    def cycle_start(self, lookback: timedelta | None = None) -> Cursor | None:
        """Where the next poll cycle begins: `overlap` (or a sweep's `lookback`) before the
        watermark."""
        if self.high is None:
            return None
        back = max(self.overlap, lookback or timedelta(0))
        if back > timedelta(0):
            return Cursor(self.high.stamp - back)
        return Cursor(self.high.stamp, self.high.id)

    def observe(self, mark: Mark, fingerprint: Hashable) -> bool:
        """Note a record read by a poll; True when it has not been published before."""
        if self.high is None or mark > self.high:
            self.high = mark
        if fingerprint in self.window:
            return False
        self.window.add(fingerprint, mark.stamp)
        return True

    def remember(self, mark: Mark, fingerprint: Hashable) -> None:
        """Mark a record as published without moving the watermark (snapshot reads).

        Only records a poll can re-read (inside the window before the watermark, or after
        it) are kept, so a snapshot of millions of records does not fill the window.
        """
        if self.high is not None and mark.stamp < self.high.stamp - self.window.span:
            return
        self.window.add(fingerprint, mark.stamp)

    def reset(self, mark: Mark | None) -> None:
        """Start over from `mark` (a fresh snapshot's high watermark)."""
        self.committed = self.high = mark
        self.window.clear()

    @property
    def dirty(self) -> bool:
        """Has the watermark moved since the last commit?"""
        return self.high != self.committed

    def commit(self) -> Mark | None:
        """The published watermark is now stored; returns it."""
        self.committed = self.high
        if self.high is not None:
            self.window.prune(self.high.stamp)
        return self.committed

    def rollback(self) -> None:
        self.high = self.committed
        self.window.clear()


Fetch = Callable[[Cursor | None, int | None], AsyncIterator[Mapping[str, Any]]]


async def new_records(
    tracker: StampTracker,
    fetch: Fetch,
    *,
    limit: int | None,
    mark_of: Callable[[Mapping[str, Any]], Mark],
    fingerprint_of: Callable[[Mapping[str, Any], Mark], Hashable],
    stopping: Callable[[], bool] = lambda: False,
    lookback: timedelta | None = None,
) -> AsyncIterator[Mapping[str, Any]]:
    """Every record not yet published, from one poll cycle, in (stamp, id) order.

    `fetch(cursor, limit)` yields records at or after `cursor` in (stamp, id) order, at most
    `limit` of them (None: all). A page of exactly `limit` records means there may be more:
    the next page starts after the last record read. `lookback` widens the cycle's start
    (a reconciliation sweep).
    """
    cursor = tracker.cycle_start(lookback)
    while True:
        count = 0
        async for raw in fetch(cursor, limit):
            count += 1
            mark = mark_of(raw)
            cursor = Cursor(mark.stamp, mark.id)
            if tracker.observe(mark, fingerprint_of(raw, mark)):
                yield raw
            if stopping():
                return
        if limit is None or count < limit:
            return
