"""Query jobs and their life cycle: UploadComplete -> InProgress -> JobComplete | Failed.

A job runs asynchronously: it stays UploadComplete for the first half of its delay,
InProgress for the second, and completes when the delay is over. The query runs then
(when the job is first looked at after its due time), against the records as they are at
that moment, and its rows are kept with the job until it is deleted, so every results page
(and every re-read of a page by its locator) comes from one snapshot. Aborting is allowed
in UploadComplete and InProgress; deleting only in JobComplete, Aborted and Failed.
Jobs live in memory and are gone after a restart.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from emulators.salesforce import timefmt
from emulators.salesforce.bulk.csvfmt import Column

OPEN_STATES = ("UploadComplete", "InProgress")
DONE_STATES = ("JobComplete", "Aborted", "Failed")

#: Runs a job's query: (columns, projected rows), or raises with the failure message.
Runner = Callable[["QueryJob"], "tuple[list[Column], list[dict[str, Any]]]"]


@dataclass(slots=True)
class QueryJob:
    id: str
    operation: str
    object: str
    query: str
    created_by: str
    created: datetime
    api_version: str
    column_delimiter: str
    line_ending: str
    started: float
    delay_s: float
    state: str = "UploadComplete"
    modstamp: datetime = field(default_factory=timefmt.now)
    columns: list[Column] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    processing_ms: int = 0

    def summary(self) -> dict[str, Any]:
        """The job as create, abort and the job list return it."""
        return {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by,
            "createdDate": timefmt.format_datetime(self.created),
            "systemModstamp": timefmt.format_datetime(self.modstamp),
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
        }

    def info(self) -> dict[str, Any]:
        """The job as `GET /jobs/query/{id}` returns it."""
        body = self.summary()
        body.update(
            {
                "jobType": "V2Query",
                "numberRecordsProcessed": len(self.rows),
                "retries": 0,
                "totalProcessingTime": self.processing_ms,
                "isPkChunkingSupported": True,
            }
        )
        if self.error is not None:
            body["errorMessage"] = self.error
        return body


def encode_locator(offset: int) -> str:
    """Salesforce's locators read like base64 of the next offset (`MTAwMDA` = "10000")."""
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def decode_locator(locator: str) -> int | None:
    """The offset a locator stands for, or None when it is not one the emulator issued."""
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(text) if text.isdigit() else None


class QueryJobs:
    """The org's query jobs (thread-safe); `run` computes a job's rows when it is due."""

    def __init__(self, run: Runner, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.RLock()
        self._jobs: dict[str, QueryJob] = {}
        self._run = run
        self._clock = clock

    def now(self) -> float:
        return self._clock()

    def add(self, job: QueryJob) -> QueryJob:
        with self._lock:
            self._jobs[job.id] = job
            return job

    def get(self, job_id: str) -> QueryJob | None:
        """The job with its state brought up to date (running its query when due)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                self._advance(job)
            return job

    def all(self) -> list[QueryJob]:
        with self._lock:
            jobs = sorted(self._jobs.values(), key=lambda j: (j.created, j.id))
            for job in jobs:
                self._advance(job)
            return jobs

    def abort(self, job: QueryJob) -> bool:
        """Abort an open job; False when it is already done."""
        with self._lock:
            self._advance(job)
            if job.state not in OPEN_STATES:
                return False
            job.state, job.modstamp = "Aborted", timefmt.now()
            return True

    def delete(self, job: QueryJob) -> bool:
        """Delete a finished job and its results; False while it is still open."""
        with self._lock:
            self._advance(job)
            if job.state not in DONE_STATES:
                return False
            self._jobs.pop(job.id, None)
            return True

    def _advance(self, job: QueryJob) -> None:
        if job.state not in OPEN_STATES:
            return
        elapsed = self._clock() - job.started
        if elapsed < job.delay_s / 2:
            return
        if elapsed < job.delay_s:
            if job.state != "InProgress":
                job.state, job.modstamp = "InProgress", timefmt.now()
            return
        began = time.perf_counter()
        try:
            job.columns, job.rows = self._run(job)
            job.state = "JobComplete"
        except Exception as exc:  # a failed query fails its job, as on Salesforce
            job.state, job.error = "Failed", str(exc) or type(exc).__name__
        job.processing_ms = max(1, round((time.perf_counter() - began) * 1000))
        job.modstamp = timefmt.now()
