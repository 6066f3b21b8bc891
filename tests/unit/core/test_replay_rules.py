"""Replaying history through the core: nothing for unchanged mappings, exactly the changed
fields after a mapping change (the semantics `sfpms replay` relies on)."""

from __future__ import annotations

import copy
from dataclasses import replace

from foundation.wire import ChangeEnvelope, Source, WriteOp
from streams.core.envelopes import change_from_envelope
from streams.core.events import Event, Forwarded, IssueWrite, SalesforceChanged
from streams.core.hub import Hub
from streams.core.rules import Rules
from streams.core.step import step
from streams.mapping.converters import EnumMap
from streams.mapping.flows import FLOWS
from tests.support.world import World


def synced_world() -> World:
    world = World(rules=Rules(FLOWS))
    for i, priority in enumerate(["High", "Normal", "Low", "Normal"]):
        world.sf_person_create("Task", {"Subject": f"T{i}", "Priority": priority})
    world.drain()
    task = next(iter(world.hubs.values()))
    project = task.linked("task_project")
    assert project is not None and project.pms_id is not None
    world.pms_person_edit(project.pms_id, {"name": "edited in Custompms"})
    world.drain()
    return world


def replay(world: World, rules: Rules) -> list[tuple[str, WriteOp]]:
    """Feed every historic change through the dispatcher with replay rules, on a copy of
    the link state; return the updates it decides (creations are the live engine's)."""
    hubs: dict[str, Hub] = copy.deepcopy(world.hubs)
    routes = {pms: r.link_key for pms, r in world.route_table.items() if r.state == "linked"}
    flows = {pms: r.flow for pms, r in world.route_table.items() if r.state == "linked"}
    writes: list[tuple[str, WriteOp]] = []
    for envelope in world.history:
        change = change_from_envelope(ChangeEnvelope.from_avro(envelope))
        event: Event
        if change.system == "salesforce":
            event = SalesforceChanged(change, Source.from_avro(envelope["source"]))
        elif change.id in routes:
            key, flow = routes[change.id], flows[change.id]
            assert key is not None and flow is not None
            event = Forwarded(key, flow, change, Source.from_avro(envelope["source"]))
        else:
            continue
        hub, effects = step(hubs.get(event.key), event, rules, 0)
        assert isinstance(hub, Hub)
        hubs[event.key] = hub
        writes += [
            (e.command.link_key, op)
            for e in effects
            if isinstance(e, IssueWrite)
            for op in e.command.ops
            if op.action not in ("create", "upsert")
        ]
    return writes


def test_replaying_unchanged_history_writes_nothing() -> None:
    world = synced_world()
    assert replay(world, Rules(FLOWS, replay=True)) == []


def test_replaying_after_a_mapping_change_writes_exactly_the_changed_fields() -> None:
    world = synced_world()
    flow = FLOWS["task_project"]
    row = flow.row("priority")
    assert isinstance(row.to_pms, EnumMap)
    changed_to_pms = EnumMap(
        tuple((sf, "low" if sf == "Normal" else pms) for sf, pms in row.to_pms.pairs)
    )
    new_row = replace(row, to_pms=changed_to_pms)
    new_flow = replace(flow, rows=tuple(new_row if r is row else r for r in flow.rows))
    flows = {**FLOWS, "task_project": new_flow}
    writes = replay(world, Rules(flows, replay=True))
    normal_tasks = {sf_id for sf_id, rec in world.sf.items() if rec.get("Priority") == "Normal"}
    assert {key for key, _op in writes} == normal_tasks
    assert all(
        w.flow == "task_project" and dict(w.fields) == {"priority": "low"} for _k, w in writes
    )
    assert len(writes) == len(normal_tasks)


def test_live_rules_do_not_roll_salesforce_state_back_either() -> None:
    """A Salesforce state older than one the hub folded is ignored live too (a backfill's
    read can arrive after a newer change; docs/faults.md Found 23), so replaying the
    history through live rules writes nothing either (it rolled state back before)."""
    world = synced_world()
    assert replay(world, Rules(FLOWS)) == []
