"""The capture section of the settings (`SFPMS_CAPTURE__<NAME>`), re-exported by
`foundation.settings`: how the CDC producers read Salesforce and Custompms."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from foundation.entities import SALESFORCE_OBJECTS

CustompmsMode = Literal["auto", "feed", "poll"]
#: How Salesforce Task changes are captured: Change Data Capture over the Pub/Sub API, or
#: SOQL polling (orgs without Change Data Capture for Task).
TaskCapture = Literal["pubsub", "poll"]


class CaptureSettings(BaseModel):
    """How the CDC producers poll, page and pace themselves (`SFPMS_CAPTURE__<NAME>`).

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
      interval doubles, above the half-way point to 100 % it quadruples, and so on (0.7:
      where the API budget starts pacing with its default 20 % reserve).
    - `max_backoff_s`: longest pause after repeated failures.
    - `salesforce_objects`: the sObjects captured (each must have an entity schema).
    - `flush_timeout_s`: how long to wait for the broker to acknowledge before a checkpoint is
      abandoned (and the work re-read).
    - `task_capture`: `pubsub` (Change Data Capture of Task over the Pub/Sub API, the
      default) or `poll` (SOQL polling, for orgs without Change Data Capture for Task).
    - `idle_poll_interval_s`: the polled sObjects (Division, Organization; Task when polled)
      are polled every `poll_interval_s` right after a change; each poll that finds nothing
      doubles the pause, up to this.
    - `sweep_interval_s`, `sweep_lookback_s`: every `sweep_interval_s` a poll re-reads
      `sweep_lookback_s` before the watermark instead of `overlap_s`, so a row committed up
      to `sweep_lookback_s - sweep_interval_s` late is still published (re-read rows
      already published are recognised and skipped).
    - `pubsub_batch_size`: events asked for per Pub/Sub FetchRequest (1..100).
    - `pubsub_linger_s`: how long the Pub/Sub capture waits for more events before it
      reads the batch's records (one query per batch) and publishes them.
    - `bulk_threshold`: first loads and `sfpms backfill` read through Bulk API 2.0 when an
      sObject has at least this many records, else through REST queries.
    - `bulk_page_records`: records per Bulk API 2.0 results page (one call each).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    poll_interval_s: float = Field(5.0, gt=0)
    batch_size: int = Field(2000, ge=1)
    overlap_s: float = Field(2.0, ge=0)
    feed_page_size: int = Field(500, ge=1, le=1000)
    custompms_mode: CustompmsMode = "auto"
    from_now: bool = False
    include_deleted: bool = True
    usage_threshold: float = Field(0.7, gt=0, lt=1)
    max_backoff_s: float = Field(60.0, gt=0)
    flush_timeout_s: float = Field(30.0, gt=0)
    salesforce_objects: tuple[str, ...] = SALESFORCE_OBJECTS
    task_capture: TaskCapture = "pubsub"
    idle_poll_interval_s: float = Field(180.0, gt=0)
    sweep_interval_s: float = Field(300.0, gt=0)
    sweep_lookback_s: float = Field(900.0, ge=0)
    pubsub_batch_size: int = Field(100, ge=1, le=100)
    pubsub_linger_s: float = Field(0.05, ge=0)
    bulk_threshold: int = Field(10_000, ge=0)
    bulk_page_records: int = Field(50_000, ge=1)

    @field_validator("salesforce_objects")
    @classmethod
    def _known_objects(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = set(value) - set(SALESFORCE_OBJECTS)
        if unknown or not value:
            raise ValueError(
                f"salesforce_objects must be some of {', '.join(SALESFORCE_OBJECTS)} "
                f"(got {', '.join(value) or 'none'})"
            )
        return value

    @property
    def overlap(self) -> timedelta:
        return timedelta(seconds=self.overlap_s)

    @property
    def sweep_lookback(self) -> timedelta:
        """How far a reconciliation sweep re-reads (never less than the overlap)."""
        return timedelta(seconds=max(self.sweep_lookback_s, self.overlap_s))

    def polled_objects(self) -> tuple[str, ...]:
        """The sObjects captured by SOQL polling (Task only when `task_capture` is poll)."""
        if self.task_capture == "pubsub":
            return tuple(o for o in self.salesforce_objects if o != "Task")
        return self.salesforce_objects
