"""One small error hierarchy for the whole product.

`SyncError` is the base. What a caller does with an error depends on its class:

- `RetriableError`: try again later (HTTP 429/5xx, timeouts, broker not ready). Carries an
  optional `retry_after` in seconds, e.g. from a Retry-After header.
- `FatalError`: this record cannot succeed as it is (HTTP 4xx other than 401/429, a value the
  target refuses). It goes to a dead-letter topic with the reason; the stream moves on.
- `SkippableError`: nothing to do and nothing lost (e.g. a record the flow ignores).
- `ConfigError`: the operator must change a setting or mapping; the process stops at start.

Messages are written for an operator: they name the record, the flow and the field where
they are known, and never contain a secret.
"""

from __future__ import annotations


class SyncError(Exception):
    """Base of every error this product raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        flow: str | None = None,
        record: str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.flow = flow
        self.record = record
        self.field = field
        super().__init__(self.describe())

    def describe(self) -> str:
        where = [
            f"{label} {value}"
            for label, value in (
                ("flow", self.flow),
                ("record", self.record),
                ("field", self.field),
            )
            if value
        ]
        return f"{self.message} ({', '.join(where)})" if where else self.message


class RetriableError(SyncError):
    """Transient: retry with backoff, honouring `retry_after` when set."""

    def __init__(self, message: str, *, retry_after: float | None = None, **where: str) -> None:
        self.retry_after = retry_after
        super().__init__(message, **where)


class FatalError(SyncError):
    """Permanent for this record: dead-letter it with the reason and continue."""


class SkippableError(SyncError):
    """Nothing to do for this record; not an error an operator must act on."""


class WriteConflict(SkippableError):
    """The target record changed since the write was decided (by a person, or on Salesforce
    by an earlier sync write the decision had not seen): the write is skipped, and the
    engine decides again when that change arrives."""


class TargetGone(SkippableError):
    """The target record was deleted by someone other than the sync: the write is skipped,
    not dead-lettered, and the op's outcome is `gone`. Either the record was deleted after
    the write was decided (the delete reaches the engine through capture and the flow's
    delete rule applies), or a Salesforce upsert would re-create a twin a person deleted
    (its external id belongs only to records in the recycle bin; the engine detaches the
    Custompms record)."""


class ConfigError(SyncError):
    """A setting or mapping is wrong; fail fast at start-up with the fix in the message."""
