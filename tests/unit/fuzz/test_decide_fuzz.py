"""Fuzzing the decision core with malformed records.

`on_sf_change` and `on_pms_change` (Rules(FLOWS)) take records whose values are anything
the Avro schemas let through, at their worst (tests/unit/fuzz/hostile.py), for every
flow, new and linked hubs, and every op and origin. They must never raise: a value that
cannot be carried becomes a `Problem` (a dead letter) naming the flow, the record and the
field, and the writes they decide only carry values the mapping produced.

Values no Avro schema of ours produces (lists, bytes, Decimal, far-off time zones) are a
separate, strict xfail: the core raises a bare TypeError/OverflowError there instead of
a SyncError naming the record (docs/faults.md, "Found").
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foundation.errors import SyncError
from streams.core.fold import on_pms_change, on_sf_change
from streams.core.hub import Hub, PmsLink
from streams.core.model import Change, Decision, System
from streams.core.rules import Rules
from streams.mapping.flows import FLOWS
from streams.mapping.table import Flow
from tests.unit.fuzz.hostile import NOT_AVRO_EXAMPLES, avro_values, pms_records, sf_records

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
RULES = Rules(FLOWS)
SF_ID = "00T5e00000DeCiDAAA"
PMS_ID = "prj_000777"
ALL_FLOWS = [pytest.param(flow, id=name) for name, flow in FLOWS.items()]
OPS = st.sampled_from(["c", "u", "r", "d"])
ORIGINS = st.sampled_from(["person", "sync", "unknown"])


def _hub(flow: Flow, state: str | None) -> Hub | None:
    if state is None:
        return None
    hub = Hub(sf_id=SF_ID, sf_object=flow.sf_object)
    hub.links[flow.name] = PmsLink(flow.name, state, PMS_ID if state != "pending" else None)  # type: ignore[arg-type]
    return hub


def assert_named(decision: Decision, flow_names: set[str]) -> None:
    """Every problem names a flow, the record and a field; writes carry JSON scalars."""
    for problem in decision.problems:
        assert problem.flow in flow_names, problem
        assert problem.record in (SF_ID, PMS_ID), problem
        assert problem.field, problem
        assert problem.error_class and problem.reason, problem
    for write in decision.writes:
        for value in write.fields.values():
            assert value is None or isinstance(value, bool | int | float | str), write


@pytest.mark.parametrize("flow", ALL_FLOWS)
def test_any_salesforce_change_is_decided_or_reported_never_raised(flow: Flow) -> None:
    names = {f.name for f in RULES.for_sf_object(flow.sf_object)}

    @FUZZ
    @given(
        record=sf_records(flow, avro_values()),
        op=OPS,
        origin=ORIGINS,
        state=st.sampled_from([None, "pending", "linked", "detached"]),
    )
    def check(record: dict[str, Any], op: str, origin: str, state: str | None) -> None:
        change = Change("salesforce", flow.sf_object, SF_ID, op, record, 1_000, origin)  # type: ignore[arg-type]
        hub, decision = on_sf_change(_hub(flow, state), change, RULES, 2_000)
        assert hub.sf_id == SF_ID
        assert_named(decision, names)

    check()


@pytest.mark.parametrize("flow", ALL_FLOWS)
def test_any_custompms_change_is_decided_or_reported_never_raised(flow: Flow) -> None:
    names = {f.name for f in RULES.for_sf_object(flow.sf_object)}

    @FUZZ
    @given(
        record=pms_records(flow, avro_values()),
        known=sf_records(flow, avro_values()),
        op=OPS,
        origin=ORIGINS,
    )
    def check(record: dict[str, Any], known: dict[str, Any], op: str, origin: str) -> None:
        hub = _hub(flow, "linked")
        assert hub is not None
        # the Salesforce side as CDC last saw it: hostile values there too
        hub, _first = on_sf_change(
            hub, Change("salesforce", flow.sf_object, SF_ID, "u", known, 500, "person"), RULES, 600
        )
        change = Change("custompms", flow.pms_resource, PMS_ID, op, record, 1_000, origin)  # type: ignore[arg-type]
        hub, decision = on_pms_change(hub, flow.name, change, RULES, 2_000)
        assert_named(decision, names)

    check()


@pytest.mark.parametrize("value", NOT_AVRO_EXAMPLES, ids=lambda v: type(v).__name__)
def test_values_no_schema_carries_are_reported_as_sync_errors_naming_the_record(
    value: Any,
) -> None:
    change = Change("salesforce", "Task", SF_ID, "u", {"Subject": value}, 1_000, "person")
    try:
        _new, decision = on_sf_change(None, change, RULES, 2_000)
    except SyncError as exc:
        assert (exc.record, exc.field) == (SF_ID, "Subject")
        return
    assert [p.field for p in decision.problems] == ["Subject"]


@pytest.mark.parametrize("side", ["salesforce", "custompms"])
def test_a_change_without_a_record_is_reported_naming_the_record(side: str) -> None:
    flow = FLOWS["task_project"]
    system: System = "salesforce" if side == "salesforce" else "custompms"
    entity = flow.sf_object if side == "salesforce" else flow.pms_resource
    record_id = SF_ID if side == "salesforce" else PMS_ID
    change = Change(system, entity, record_id, "u", None, 1_000, "person")
    try:
        if side == "salesforce":
            _new, decision = on_sf_change(None, change, RULES, 2_000)
        else:
            hub = _hub(flow, "linked")
            assert hub is not None
            _same, decision = on_pms_change(hub, flow.name, change, RULES, 2_000)
    except SyncError as exc:
        assert exc.record in (SF_ID, PMS_ID)
        return
    assert decision.skipped or decision.problems
