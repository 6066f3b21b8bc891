"""Which write commands are done and which wait for another attempt. Pure bookkeeping.

A sink applies a batch; each command comes back ok, conflict, refused (fatal) or retriable.
Per partition, in offset order, every command before the first retriable one is done (its
result and dead letter, if any, are published and its offset can be committed); that
retriable command and every later one of its partition are *held*: the partition is paused
(the consumer keeps being polled for the others, so one failing sObject or resource does not
block the rest, and the group never drops the worker), and at the next attempt the held
commands are applied again, in order (later ones of the same record must land after it;
a second apply is harmless: idempotency keys, upserts by external id, conditional updates).

Each held command counts its own attempts and the time since its first failure; the sink's
configuration of the retry policy (foundation/retry.py) says when it gives up: the command
then becomes a dead letter with the reason, and the partition moves on. Failures that are
not the command's fault do not count: Salesforce's REQUEST_LIMIT_EXCEEDED (the org's daily
allowance is used up; the wait is as long as Salesforce says, or `limit_wait_s`) and a
refused token (the operator fixes it; until then the sink waits and says so).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from connectors.sinks.model import Applied, CommandApplied, flatten
from foundation.errors import FatalError, RetriableError, SyncError
from foundation.retry import RetryPolicy
from foundation.wire import WriteCommand

Partition = tuple[str, int]


@dataclass
class Pending:
    """One command waiting for its next attempt (or just consumed)."""

    partition: Partition
    offset: int
    key: bytes | None
    value: bytes | None
    command: WriteCommand | None  # None: undecodable (its dead letter says why)
    attempts: int = 0
    first_failed: float | None = None
    last_error: SyncError | None = None


@dataclass
class Settled:
    """What one apply round decided for a list of pending commands."""

    done: list[tuple[Pending, CommandApplied]] = field(default_factory=list)
    held: dict[Partition, list[Pending]] = field(default_factory=dict)
    #: Seconds until each held partition's next attempt.
    wait: dict[Partition, float] = field(default_factory=dict)
    gave_up: int = 0


class RetriesExhausted(FatalError):
    """A transient failure that lasted longer than the sink's limits: dead-lettered."""


def gave_up(pending: Pending, policy: RetryPolicy, now: float) -> CommandApplied:
    """The failed outcome of a command the sink stops retrying, with the reason."""
    assert pending.command is not None
    age = now - (pending.first_failed if pending.first_failed is not None else now)
    last = pending.last_error
    where = {
        "flow": (last.flow if last else None) or pending.command.ops[0].flow,
        "record": last.record if last else None,
        "field": last.field if last else None,
    }
    error = RetriesExhausted(
        f"gave up after {pending.attempts} attempt(s) over {age:.0f}s "
        f"(the sink's limits: {policy.max_attempts} attempts, {policy.max_age_s}s): "
        f"{last.message if last is not None else 'unknown failure'}; fix the cause and "
        "re-drive it with `sfpms dlq redrive`",
        **{k: str(v) for k, v in where.items() if v},
    )
    ops = tuple(
        Applied(op, ok=False, target_id=op.get("target_id"), error=error)
        for op in flatten([pending.command])
    )
    return CommandApplied(pending.command, ops)


def settle(
    pending: Sequence[Pending],
    applied: Sequence[CommandApplied],
    policy: RetryPolicy,
    *,
    uncounted: Callable[[SyncError], float | None],
    now: float | None = None,
) -> Settled:
    """Split one apply round into done and held commands (see the module docstring).

    `uncounted(error)` returns the wait for a failure that is not the command's fault
    (it does not count as an attempt), or None for an ordinary retriable failure.
    """
    now = time.monotonic() if now is None else now
    out = Settled()
    blocked: set[Partition] = set()
    for item, outcome in zip(pending, applied, strict=True):
        error = outcome.error
        retriable = isinstance(error, RetriableError)
        if item.partition in blocked:
            out.held[item.partition].append(item)
            continue
        if not retriable:
            out.done.append((item, outcome))
            continue
        assert isinstance(error, RetriableError)
        waited = uncounted(error)
        item.last_error = error
        if waited is None:
            item.attempts += 1
            if item.first_failed is None:
                item.first_failed = now
            age = now - item.first_failed
            if policy.exhausted(item.attempts, age):
                out.done.append((item, gave_up(item, policy, now)))
                out.gave_up += 1
                continue
            waited = policy.delay(item.attempts, error.retry_after)
        blocked.add(item.partition)
        out.held[item.partition] = [item]
        out.wait[item.partition] = waited
    return out


def commit_offsets(
    done: Sequence[Pending], held: Mapping[Partition, Sequence[Pending]]
) -> dict[Partition, int]:
    """The offset to commit per partition: past every done command, never past a held one."""
    commit: dict[Partition, int] = {}
    for item in done:
        commit[item.partition] = max(commit.get(item.partition, 0), item.offset + 1)
    for partition, items in held.items():
        first = min(i.offset for i in items)
        if partition in commit:
            commit[partition] = min(commit[partition], first)
    return commit
