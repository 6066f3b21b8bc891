"""The end-state check of the fault tests: both systems hold exactly the expected mapped state.

`read_snapshot` reads every record of both systems; `check_end_state(groups, snapshot)`
returns the problems found (empty: all good), and `wait_for_end_state` polls until there are
none and the systems have been quiet for a while. Nothing here trusts the product's own
state: records are found in both systems by the group's tag and compared through the
mapping (`convert_to_pms` / `convert_to_sf`).

What is checked, per group (tests/faults/model.py) and across all records:
- 0 duplicates: at most one record per tag and member kind; no two live Salesforce records
  carry the same `Custompms_Id__c`.
- 0 lost changes: every member the delete policy keeps exists, the others do not; the
  member a person edited last holds that value; the Salesforce record agrees with it; every
  linked Custompms record agrees with the Salesforce record.
- Deletes: the policy's patch is there (a cancelled Project, an inactive Division), instead
  of values.
- References: a Custompms Task made for a Salesforce Task sits in that Task's Project;
  Salesforce twins of Custompms records carry the Custompms id; Customers linked to
  Divisions have kind `division`.
For lossy rows (Status), two values agree when either maps onto the other, like
`_agree` in tests/unit/core/test_sync_state_machine.py.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from foundation.errors import SyncError
from streams.core.values import canonical
from streams.mapping.apply import convert_to_pms, convert_to_sf, get_path
from tests.faults.model import (
    CUSTOMER,
    DELETE_PATCHES,
    EDITED_FIELDS,
    FLOW_OF,
    PMS_TASK,
    PROJECT,
    SF_DIVISION,
    SF_TASK,
    Group,
    Member,
    field_name,
    row_for,
    sf_object,
)
from tests.faults.people import PmsPerson, SfPerson

TASK_FIELDS = "Id, Subject, Status, Priority, ActivityDate, Description, Custompms_Id__c"
DIVISION_FIELDS = "Id, Name, IsActive, Custompms_Id__c"
NAME_FIELD = {
    SF_TASK: "Subject",
    SF_DIVISION: "Name",
    PROJECT: "name",
    PMS_TASK: "title",
    CUSTOMER: "name",
}


@dataclass
class Snapshot:
    """Every live record of both systems, by member kind."""

    records: dict[Member, list[dict[str, Any]]] = field(default_factory=dict)

    def tagged(self, member: Member, tag: str) -> list[dict[str, Any]]:
        """Records of `member` kind whose name starts with the word `tag`."""
        name = NAME_FIELD[member]
        return [
            r
            for r in self.records.get(member, [])
            if str(r.get(name) or "").split(" ", 1)[0] == tag
        ]


def read_snapshot(sf: SfPerson, pms: PmsPerson) -> Snapshot:
    """Both systems as they are now (live records only)."""
    return Snapshot(
        {
            SF_TASK: sf.query(f"SELECT {TASK_FIELDS} FROM Task"),  # noqa: S608 - constant
            SF_DIVISION: sf.query(f"SELECT {DIVISION_FIELDS} FROM Division"),  # noqa: S608
            PROJECT: list(pms.items("projects")),
            PMS_TASK: list(pms.items("tasks")),
            CUSTOMER: list(pms.items("customers")),
        }
    )


def _value(member: Member, record: dict[str, Any], sf_field: str) -> Any:
    if member[0] == "sf":
        return canonical(record.get(sf_field))
    return canonical(get_path(record, field_name(member, sf_field)))


def _sf_image(member: Member, sf_field: str, value: Any) -> Any:
    """A member's value in Salesforce terms (as the sync would write it to Salesforce)."""
    found = row_for(member, sf_field)
    if found is None:
        return value
    flow, row = found
    return canonical(convert_to_sf(flow, row, value, "check"))


def agrees(member: Member, sf_field: str, value: Any, sf_value: Any) -> bool:
    """True when a member's value and a Salesforce value stand for each other.

    Either direction counts, so a lossy row (Deferred -> on_hold -> Waiting on someone else)
    agrees with the value it came from and with the value it keeps (`current=`)."""
    found = row_for(member, sf_field)
    if found is None:
        return bool(canonical(value) == canonical(sf_value))
    flow, row = found
    try:
        if row.to_pms is not None:
            as_pms = canonical(convert_to_pms(flow, row, sf_value, "check"))
            if as_pms == canonical(value):
                return True
        if row.to_sf is not None:
            return bool(canonical(convert_to_sf(flow, row, value, "check")) == canonical(sf_value))
    except SyncError:
        return False
    return False


def _find(group: Group, snapshot: Snapshot, problems: list[str]) -> dict[Member, dict[str, Any]]:
    """The group's live members; a problem for each missing, surplus or duplicated one."""
    found: dict[Member, dict[str, Any]] = {}
    for member in group.members:
        records = snapshot.tagged(member, group.tag)
        expected = 1 if member in group.survivors else 0
        if len(records) != expected:
            what = "duplicated" if len(records) > 1 else ("lost" if expected else "not removed")
            ids = [r.get("Id") or r.get("id") for r in records]
            problems.append(
                f"{group.tag} ({group.kind}, deleted {group.deleted}): {member} {what}: "
                f"expected {expected}, found {len(records)} {ids}"
            )
        if records:
            found[member] = records[0]
    return found


def _check_values(group: Group, found: dict[Member, dict[str, Any]], problems: list[str]) -> None:
    sf_member = SF_TASK if sf_object(group.kind) == "Task" else SF_DIVISION
    sf_record = found.get(sf_member)
    if sf_record is None or group.deleted == sf_member:
        return  # deleted in Salesforce: the policy's patch is all there is to check
    patched = DELETE_PATCHES.get((group.kind, group.deleted)) if group.deleted else None
    for sf_field in EDITED_FIELDS[sf_object(group.kind)]:
        if patched is not None and patched[1] == sf_field:
            continue  # the delete policy overrides this field
        last = group.last_edit(sf_field)
        sf_value = _value(sf_member, sf_record, sf_field)
        if last is not None:
            holder = found.get(last.member)
            if holder is not None and _value(last.member, holder, sf_field) != canonical(
                last.value
            ):
                problems.append(
                    f"{group.tag}: {last.member} {field_name(last.member, sf_field)} is "
                    f"{_value(last.member, holder, sf_field)!r}, but a person set "
                    f"{last.value!r} last"
                )
            if not agrees(last.member, sf_field, last.value, sf_value):
                problems.append(
                    f"{group.tag}: Salesforce {sf_field} is {sf_value!r}, but the last edit "
                    f"was {last.value!r} on {last.member}"
                )
        for member, record in found.items():
            if member[0] == "pms" and not agrees(
                member, sf_field, _value(member, record, sf_field), sf_value
            ):
                problems.append(
                    f"{group.tag}: {member} {field_name(member, sf_field)} "
                    f"{_value(member, record, sf_field)!r} disagrees with Salesforce "
                    f"{sf_field} {sf_value!r} ({FLOW_OF[member]})"
                )


def _check_links(group: Group, found: dict[Member, dict[str, Any]], problems: list[str]) -> None:
    origin = found.get(group.origin)
    if group.origin[0] == "pms" and origin is not None:
        twin = found.get(SF_TASK if sf_object(group.kind) == "Task" else SF_DIVISION)
        if twin is not None and twin.get("Custompms_Id__c") != group.origin_id:
            problems.append(
                f"{group.tag}: Salesforce twin carries Custompms_Id__c "
                f"{twin.get('Custompms_Id__c')!r}, not {group.origin_id}"
            )
    project, task = found.get(PROJECT), found.get(PMS_TASK)
    in_its_project = project is None or task is None or task.get("project_id") == project["id"]
    if group.kind == "sf_task" and not in_its_project:
        assert project is not None and task is not None
        problems.append(
            f"{group.tag}: Custompms Task {task.get('id')} is in project "
            f"{task.get('project_id')}, not in {project.get('id')}"
        )
    customer = found.get(CUSTOMER)
    if customer is not None and group.deleted is None and customer.get("kind") != "division":
        problems.append(f"{group.tag}: Customer {customer.get('id')} has kind {customer['kind']}")
    if group.deleted is not None and (group.kind, group.deleted) in DELETE_PATCHES:
        member, name, value = DELETE_PATCHES[(group.kind, group.deleted)]
        record = found.get(member)
        if record is not None and canonical(get_path(record, name)) != value:
            problems.append(
                f"{group.tag}: after deleting {group.deleted}, {member} {name} is "
                f"{get_path(record, name)!r}, policy says {value!r}"
            )


def _global_duplicates(snapshot: Snapshot, problems: list[str]) -> None:
    for member in (SF_TASK, SF_DIVISION):
        counts = Counter(
            r["Custompms_Id__c"] for r in snapshot.records.get(member, []) if r["Custompms_Id__c"]
        )
        problems.extend(
            f"{n} Salesforce {member[1]} records carry Custompms_Id__c {ext}"
            for ext, n in counts.items()
            if n > 1
        )


def check_end_state(groups: Iterable[Group], snapshot: Snapshot) -> list[str]:
    """Every difference between what people did and what both systems hold (empty: none)."""
    problems: list[str] = []
    for group in groups:
        found = _find(group, snapshot, problems)
        _check_values(group, found, problems)
        _check_links(group, found, problems)
    _global_duplicates(snapshot, problems)
    return problems


def wait_for_end_state(
    groups: Sequence[Group],
    read: Callable[[], Snapshot],
    write_calls: Callable[[], tuple[int, int]],
    *,
    timeout: float,
    quiet_s: float = 3.0,
    describe: Callable[[list[str]], str] = lambda problems: "",
) -> Snapshot:
    """Poll until the end state is right and no write call happened for `quiet_s` seconds,
    then check once more (a late duplicate would show). AssertionError listing the problems
    (and `describe(problems)`, e.g. what people did to those records and log tails) after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    problems: list[str] = ["not checked yet"]
    while time.monotonic() < deadline:
        snapshot = read()
        problems = check_end_state(groups, snapshot)
        if not problems:
            calls, quiet_since = write_calls(), time.monotonic()
            while time.monotonic() - quiet_since < quiet_s and time.monotonic() < deadline:
                time.sleep(0.5)
                now = write_calls()
                if now != calls:
                    calls, quiet_since = now, time.monotonic()
            snapshot = read()
            problems = check_end_state(groups, snapshot)
            if not problems:
                return snapshot
        time.sleep(1.0)
    shown = "\n  ".join(problems[:40])
    raise AssertionError(
        f"end state still wrong after {timeout:.0f}s ({len(problems)} problems):\n  {shown}\n"
        f"{describe(problems)}"
    )
