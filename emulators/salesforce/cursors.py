"""Query locators: the rest of a query result, served page by page via nextRecordsUrl."""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from emulators.salesforce import ids

#: Salesforce keeps a locator for about 15 minutes of inactivity.
CURSOR_TTL_S = 15 * 60
MAX_CURSORS = 200


@dataclass(slots=True)
class _Cursor:
    records: list[dict[str, Any]]
    touched: float


class QueryCursors:
    """Holds unread query results under locator ids (prefix 01g), least recently used out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()

    def open(self, records: list[dict[str, Any]]) -> str:
        locator = ids.to18("01g" + ids.INSTANCE + ids.encode62(secrets.randbelow(62**9), 9))
        with self._lock:
            self._expire()
            self._cursors[locator] = _Cursor(records, time.monotonic())
            while len(self._cursors) > MAX_CURSORS:
                self._cursors.popitem(last=False)
        return locator

    def page(
        self, locator: str, start: int, size: int
    ) -> tuple[list[dict[str, Any]], bool, int] | None:
        """(records [start, start+size), more remain?, total); None for an unknown locator."""
        with self._lock:
            self._expire()
            cursor = self._cursors.get(locator)
            if cursor is None or start > len(cursor.records):
                return None
            cursor.touched = time.monotonic()
            self._cursors.move_to_end(locator)
            chunk = cursor.records[start : start + size]
            # The last page stays readable until the locator expires, so a client may retry.
            return chunk, start + size < len(cursor.records), len(cursor.records)

    def _expire(self) -> None:
        cutoff = time.monotonic() - CURSOR_TTL_S
        for locator in [k for k, c in self._cursors.items() if c.touched < cutoff]:
            del self._cursors[locator]
