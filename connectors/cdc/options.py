"""Tuning of the CDC producers: poll interval, page sizes, overlap window, feed mode.

These would belong in `foundation.settings.Settings` (see docs/cdc.md, "Settings wanted"); until
then they live here with their defaults and are set from `sfpms cdc run` flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

CustompmsMode = Literal["auto", "feed", "poll"]
SALESFORCE_OBJECTS: tuple[str, ...] = ("Division", "Organization", "Task")


@dataclass(frozen=True, slots=True)
class CdcOptions:
    """How the CDC producers poll, page and pace themselves.

    - `poll_interval_s`: pause between polls when nothing is left to read.
    - `batch_size`: SOQL `LIMIT` of one Salesforce poll query (records sharing a
      SystemModstamp are paged through with the (SystemModstamp, Id) keyset, so any size works).
    - `overlap_s`: each Salesforce poll re-reads this many seconds before the watermark, so a
      record committed late with an earlier SystemModstamp (clock skew, long transactions) is
      still seen; re-read records already published are recognised and skipped.
    - `feed_page_size`: changes per Custompms feed request (1..1000).
    - `custompms_mode`: `feed` tails the change feed, `poll` uses `updated_since` polling,
      `auto` uses the feed unless the API does not offer it (404/405).
    - `from_now`: with no stored feed position, start at the head of the feed instead of seq 0.
    - `include_deleted`: in poll mode, ask for tombstones (the only way polling sees deletes).
    - `usage_threshold`: above this fraction of the daily Salesforce API allowance the poll
      interval doubles, above the half-way point to 100 % it quadruples, and so on.
    - `max_backoff_s`: longest pause after repeated failures.
    - `salesforce_objects`: the sObjects captured (each must have an entity schema).
    - `flush_timeout_s`: how long to wait for the broker to acknowledge before a checkpoint is
      abandoned (and the work re-read).
    """

    poll_interval_s: float = 5.0
    batch_size: int = 2000
    overlap_s: float = 2.0
    feed_page_size: int = 500
    custompms_mode: CustompmsMode = "auto"
    from_now: bool = False
    include_deleted: bool = True
    usage_threshold: float = 0.8
    max_backoff_s: float = 60.0
    flush_timeout_s: float = 30.0
    salesforce_objects: tuple[str, ...] = field(default=SALESFORCE_OBJECTS)

    def __post_init__(self) -> None:
        if self.poll_interval_s <= 0:
            raise ValueError("poll_interval_s must be positive")
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if self.overlap_s < 0:
            raise ValueError("overlap_s must not be negative")
        if not 1 <= self.feed_page_size <= 1000:
            raise ValueError("feed_page_size must be between 1 and 1000")
        if not 0 < self.usage_threshold < 1:
            raise ValueError("usage_threshold must be between 0 and 1")
        unknown = set(self.salesforce_objects) - set(SALESFORCE_OBJECTS)
        if unknown or not self.salesforce_objects:
            raise ValueError(
                f"salesforce_objects must be some of {', '.join(SALESFORCE_OBJECTS)} "
                f"(got {', '.join(self.salesforce_objects) or 'none'})"
            )

    @property
    def overlap(self) -> timedelta:
        return timedelta(seconds=self.overlap_s)


DEFAULTS = CdcOptions()
