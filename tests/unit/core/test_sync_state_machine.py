"""Hypothesis state machine over the decision core.

Random interleavings of people's creates, edits and deletes on both sides, deliveries in any
order Kafka allows (per-key FIFO), redeliveries (at-least-once) and coalesced CDC polls. At the
end, after draining, it checks: nothing was created twice, the queues drained (no echo loop),
and every linked pair of records agrees through the mapping.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from streams.core.rules import Rules
from streams.mapping.apply import convert_to_pms, convert_to_sf, get_path
from streams.mapping.flows import FLOWS
from tests.support.world import World

NAMES = st.sampled_from(["Acme", "acme", "Globex", "Initech", "Umbrella"])
STATUSES = st.sampled_from(
    ["Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"]
)
PMS_STATUSES = st.sampled_from(["planned", "active", "on_hold", "completed", "cancelled"])
TASK_STATUSES = st.sampled_from(["todo", "in_progress", "blocked", "done"])
PRIORITIES = st.sampled_from(["High", "Normal", "Low"])


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = World(rules=Rules(FLOWS))

    # -- people on Salesforce -------------------------------------------------------------
    @rule(subject=NAMES, status=STATUSES, priority=PRIORITIES)
    def sf_create_task(self, subject: str, status: str, priority: str) -> None:
        self.world.sf_person_create(
            "Task", {"Subject": subject, "Status": status, "Priority": priority}
        )

    @rule(name=NAMES, active=st.booleans())
    def sf_create_division(self, name: str, active: bool) -> None:
        self.world.sf_person_create("Division", {"Name": name, "IsActive": active})

    @precondition(lambda self: self._sf_ids())
    @rule(data=st.data(), subject=NAMES, status=STATUSES)
    def sf_edit(self, data: st.DataObject, subject: str, status: str) -> None:
        record_id = data.draw(st.sampled_from(self._sf_ids()))
        record = self.world.sf[record_id]
        values = (
            {"Subject": subject, "Status": status}
            if record["_type"] == "Task"
            else {"Name": subject}
        )
        self.world.sf_person_edit(record_id, values)

    @precondition(lambda self: self._sf_ids())
    @rule(data=st.data())
    def sf_delete(self, data: st.DataObject) -> None:
        self.world.sf_person_delete(data.draw(st.sampled_from(self._sf_ids())))

    # -- people on Custompms ----------------------------------------------------------------
    @rule(name=NAMES, status=PMS_STATUSES)
    def pms_create_project(self, name: str, status: str) -> None:
        self.world.pms_person_create("project", {"name": name, "status": status})

    @rule(name=NAMES)
    def pms_create_customer(self, name: str) -> None:
        self.world.pms_person_create("customer", {"name": name, "kind": "division"})

    @precondition(lambda self: self._pms_ids("project"))
    @rule(data=st.data(), title=NAMES, status=TASK_STATUSES)
    def pms_create_task(self, data: st.DataObject, title: str, status: str) -> None:
        project = data.draw(st.sampled_from(self._pms_ids("project")))
        self.world.pms_person_create(
            "task", {"title": title, "status": status, "project_id": project}
        )

    @precondition(lambda self: self._pms_ids())
    @rule(data=st.data(), name=NAMES, status=PMS_STATUSES, task_status=TASK_STATUSES)
    def pms_edit(self, data: st.DataObject, name: str, status: str, task_status: str) -> None:
        record_id = data.draw(st.sampled_from(self._pms_ids()))
        kind = self.world.pms[record_id]["_type"]
        values: dict[str, Any] = {
            "project": {"name": name, "status": status},
            "task": {"title": name, "status": task_status},
            "customer": {"name": name},
        }[kind]
        self.world.pms_person_edit(record_id, values)

    @precondition(lambda self: self._pms_ids())
    @rule(data=st.data())
    def pms_delete(self, data: st.DataObject) -> None:
        self.world.pms_person_delete(data.draw(st.sampled_from(self._pms_ids())))

    # -- the engine worker ---------------------------------------------------------------
    @rule()
    def engine_commits(self) -> None:
        self.world.commit()

    @precondition(lambda self: self.world.uncommitted)
    @rule()
    def engine_crashes_between_outputs_and_state(self) -> None:
        self.world.crash()

    # -- the broker ------------------------------------------------------------------------
    @precondition(lambda self: self.world.pending())
    @rule(data=st.data(), redeliver=st.booleans(), coalesce=st.booleans())
    def deliver(self, data: st.DataObject, redeliver: bool, coalesce: bool) -> None:
        key = data.draw(st.sampled_from(self.world.pending()))
        if coalesce:
            self.world.coalesce(key)
        self.world.deliver(key)
        if redeliver:
            self.world.deliver(key, redeliver=True)

    # -- checks ----------------------------------------------------------------------------
    def no_custompms_record_is_linked_twice(self) -> None:
        """After draining (two hubs may both hold a match until the route table rejects one)."""
        owners: dict[str, str] = {}
        for hub in self.world.hubs.values():
            for link in hub.links.values():
                if link.state == "linked" and link.pms_id is not None:
                    assert link.pms_id not in owners, f"{link.pms_id} linked twice"
                    owners[link.pms_id] = hub.sf_id

    def teardown(self) -> None:
        world = self.world
        world.drain()  # raises if an echo loop keeps the queues busy
        self.no_custompms_record_is_linked_twice()
        created_from = [
            rec.get("Custompms_Id__c") for rec in world.sf.values() if rec.get("Custompms_Id__c")
        ]
        assert len(created_from) == len(set(created_from)), "a Custompms record got two twins"
        creates_per_hub: dict[tuple[str, str], int] = {}
        for hub in world.hubs.values():
            for flow, link in hub.links.items():
                if link.state == "linked":
                    creates_per_hub[(hub.sf_id, flow)] = (
                        creates_per_hub.get((hub.sf_id, flow), 0) + 1
                    )
        assert all(n == 1 for n in creates_per_hub.values())
        assert len(world.sync_created_pms) == len(set(world.sync_created_pms))
        for hub in world.hubs.values():
            if hub.deleted or hub.sf_id in world.sf_deleted:
                continue
            sf_record = world.sf[hub.sf_id]
            for flow_name, link in hub.links.items():
                if link.state != "linked" or link.pms_id in world.pms_deleted:
                    continue
                assert link.pms_id is not None
                self._agree(flow_name, sf_record, world.pms[link.pms_id])

    @staticmethod
    def _agree(flow_name: str, sf_record: dict[str, Any], pms_record: dict[str, Any]) -> None:
        flow = FLOWS[flow_name]
        for row in flow.rows:
            if row.is_constant or row.is_reference or row.sf_field is None:
                continue
            sf_value = sf_record.get(row.sf_field)
            pms_value = get_path(pms_record, row.pms_field)
            if sf_value is None and pms_value is None:
                continue
            as_pms = convert_to_pms(flow, row, sf_value, "check") if row.writes_pms else None
            as_sf = convert_to_sf(flow, row, pms_value, "check") if row.writes_sf else None
            assert as_pms == pms_value or as_sf == sf_value, (
                f"{flow_name} {row.label}: Salesforce {sf_value!r} vs Custompms {pms_value!r}"
            )

    def _sf_ids(self) -> list[str]:
        return sorted(k for k in self.world.sf if k not in self.world.sf_deleted)

    def _pms_ids(self, kind: str | None = None) -> list[str]:
        return sorted(
            k
            for k, rec in self.world.pms.items()
            if k not in self.world.pms_deleted and (kind is None or rec["_type"] == kind)
        )


SyncMachine.TestCase.settings = settings(
    max_examples=300,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSyncStateMachine = SyncMachine.TestCase
