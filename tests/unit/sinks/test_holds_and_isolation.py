"""The sinks' failure bookkeeping, pure: what is done, what waits, when to give up; and how
the Salesforce target keeps each failure with its own record."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.salesforce.errors import SalesforceApiError, SalesforceRetriableError
from connectors.salesforce.types import RecordIssue, RecordResult
from connectors.sinks.holds import Pending, commit_offsets, settle
from connectors.sinks.model import Applied, CommandApplied, flatten, result_for
from connectors.sinks.salesforce_target import SalesforceTarget
from foundation.errors import FatalError, RetriableError, TargetGone, WriteConflict
from foundation.retry import RetryPolicy
from foundation.wire import WriteCommand, WriteOp

POLICY = RetryPolicy(max_attempts=3, max_age_s=60, base_delay_s=1.0, jitter="none")
P0, P1 = ("t.writes", 0), ("t.writes", 1)


def _pending(partition: tuple[str, int], offset: int) -> Pending:
    op = WriteOp("f", "project", "update", f"id{offset}")
    return Pending(partition, offset, b"k", b"v", WriteCommand("c", "00T1", "custompms", (op,), 1))


def _outcome(item: Pending, **applied: Any) -> CommandApplied:
    assert item.command is not None
    (op,) = flatten([item.command])
    return CommandApplied(item.command, (Applied(op, **applied),))


def _ok(item: Pending) -> CommandApplied:
    return _outcome(item, ok=True)


def _busy(item: Pending) -> CommandApplied:
    return _outcome(item, ok=False, error=RetriableError("busy"))


def _never(_error: Any) -> None:
    return None


def test_commands_after_the_first_retriable_one_of_a_partition_wait_in_order() -> None:
    items = [_pending(P0, 0), _pending(P0, 1), _pending(P0, 2), _pending(P1, 7)]
    outcomes = [_ok(items[0]), _busy(items[1]), _ok(items[2]), _ok(items[3])]
    settled = settle(items, outcomes, POLICY, uncounted=_never, now=100.0)
    assert [i.offset for i, _ in settled.done] == [0, 7]
    assert [i.offset for i in settled.held[P0]] == [1, 2]
    assert settled.wait[P0] == 1.0 and items[1].attempts == 1
    assert commit_offsets([i for i, _ in settled.done], settled.held) == {P0: 1, P1: 8}


def test_a_command_is_given_up_after_its_bounded_attempts_and_the_partition_moves_on() -> None:
    item = _pending(P0, 3)
    for attempt in (1, 2):
        settled = settle([item], [_busy(item)], POLICY, uncounted=_never, now=100.0 + attempt)
        assert settled.held[P0] == [item] and item.attempts == attempt
    settled = settle([item], [_busy(item)], POLICY, uncounted=_never, now=103.0)
    assert settled.gave_up == 1 and not settled.held
    ((_item, outcome),) = settled.done
    (op,) = outcome.ops
    assert isinstance(op.error, FatalError)
    assert "gave up after 3 attempt(s)" in op.error.describe()
    assert "busy" in op.error.describe()


def test_a_command_is_given_up_when_too_old_whatever_its_attempts() -> None:
    item = _pending(P0, 3)
    settle([item], [_busy(item)], POLICY, uncounted=_never, now=0.0)
    settled = settle([item], [_busy(item)], POLICY, uncounted=_never, now=61.0)
    assert settled.gave_up == 1


def test_waits_that_are_not_the_commands_fault_do_not_count() -> None:
    item = _pending(P0, 0)
    for n in range(10):
        settled = settle([item], [_busy(item)], POLICY, uncounted=lambda _e: 300.0, now=float(n))
        assert settled.held[P0] == [item] and settled.wait[P0] == 300.0
    assert item.attempts == 0


class _Collections:
    """A stand-in for the Salesforce client's Collections calls: it refuses a whole request
    that contains the poisoned record (as Salesforce does for a body it cannot parse) and
    reports UNABLE_TO_LOCK_ROW for the locked one."""

    def __init__(self, poisoned: str, locked: str) -> None:
        self.poisoned, self.locked = poisoned, locked
        self.calls: list[list[str]] = []

    async def collections_update(self, records: Sequence[dict[str, Any]]) -> list[RecordResult]:
        ids = [str(r["Id"]) for r in records]
        self.calls.append(ids)
        if self.poisoned in ids:
            raise SalesforceApiError(
                "JSON_PARSER_ERROR", status=400, error_code="JSON_PARSER_ERROR"
            )
        return [
            RecordResult(i, False, (RecordIssue("UNABLE_TO_LOCK_ROW", "locked", ()),))
            if i == self.locked
            else RecordResult(i, True)
            for i in ids
        ]


def _update(target: str) -> dict[str, Any]:
    return {
        "flow": "task_project",
        "entity": "Task",
        "action": "update",
        "target_id": target,
        "fields": {"Subject": target},
        "if_match": None,
    }


async def test_a_request_refused_as_a_whole_is_split_until_the_refused_record_is_alone() -> None:
    ids = [f"00T{n:015d}" for n in range(8)]
    client = _Collections(poisoned=ids[5], locked=ids[2])
    target = SalesforceTarget(client, conditional=False)  # type: ignore[arg-type]
    applied = await target.apply([_update(i) for i in ids])
    outcomes = {a.target_id: a for a in applied}
    assert isinstance(outcomes[ids[5]].error, SalesforceApiError)
    assert isinstance(outcomes[ids[2]].error, SalesforceRetriableError)  # tried again later
    assert all(outcomes[i].ok for i in ids if i not in (ids[2], ids[5]))
    assert [ids[5]] in client.calls and len(client.calls) <= 7


def test_each_kind_of_op_outcome_reaches_the_wire_with_its_own_status() -> None:
    item = _pending(P0, 0)
    assert item.command is not None
    (op,) = flatten([item.command])
    kinds = {
        "ok": Applied(op, ok=True),
        "conflict": Applied(op, ok=False, error=WriteConflict("changed since")),
        "gone": Applied(op, ok=False, error=TargetGone("its twin was deleted")),
        "failed": Applied(op, ok=False, error=FatalError("refused")),
    }
    for status, applied in kinds.items():
        assert applied.status == status
        outcome = result_for(item.command, [applied], now=1).outcomes[0]
        assert outcome.outcome == status
    gone = result_for(item.command, [kinds["gone"]], now=1).outcomes[0]
    assert gone.error == "its twin was deleted"
