"""A seeded workload of people's creates, edits and deletes on both systems.

`Workload(rng, sf, pms).run(ops)` makes Tasks, Divisions, Projects, Custompms Tasks and
Customers, edits them and their twins, and deletes a few, pausing between steps so the
work is spread over the time faults happen. Every choice comes from `rng`
(random.Random(seed)); what the systems answer (e.g. whether a twin exists yet) still
depends on timing, so a seed fixes the plan, not the exact run.

Edits stay checkable (tests/faults/endstate.py):
- every name starts with the group's tag, so its twins can be found in both systems;
- text and dates are fresh values, so each edit really changes something;
- an enum or boolean edit picks a value that none of the member's plausible current values
  stands for (given the field's recent edits), so it is never a no-op that the sync would
  rightly ignore while the workload counted it;
- deletes only touch groups whose twins all exist, and after a delete the group is left
  alone (what remains is the delete policy's to decide);
- with `race_guard` on (the reduced form in `make test`), a member is edited only once
  every edit made on its twins has been seen in both systems (the group was settled in a
  snapshot taken after it). Off (the full form, or SFPMS_FAULTS_RACE_GUARD=0), people edit
  both sides of a record concurrently: the interleavings of docs/faults.md 1 and 7.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.faults.endstate import Snapshot, agrees, check_end_state, read_snapshot
from tests.faults.model import (
    CUSTOMER,
    EDITED_FIELDS,
    PMS_TASK,
    PROJECT,
    SF_DIVISION,
    SF_TASK,
    Edit,
    Group,
    GroupKind,
    Member,
    field_name,
    sf_object,
)
from tests.faults.people import PmsPerson, SfPerson

WORDS = (
    "alpha",
    "bravo",
    "Ünïcødé",
    "😀",
    "עברית",
    "zero\u200bwidth",
    "中文",
    "naïve",
    "O'Brien",
    "déjà-vu",
    "Ωmega",
    "\U0001d518\U0001d52b\U0001d526",  # Fraktur letters, outside the BMP
)
SF_STATUS = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
DOMAINS: dict[tuple[Member, str], tuple[Any, ...]] = {
    (SF_TASK, "Status"): SF_STATUS,
    (SF_TASK, "Priority"): ("High", "Normal", "Low"),
    (PROJECT, "Status"): ("planned", "active", "on_hold", "completed", "cancelled"),
    (PROJECT, "Priority"): ("high", "medium", "low"),
    (PMS_TASK, "Status"): ("todo", "in_progress", "blocked", "done"),
    (PMS_TASK, "Priority"): ("high", "medium", "low"),
    (SF_DIVISION, "IsActive"): (True, False),
    (CUSTOMER, "IsActive"): (True, False),
}
PLURAL = {PROJECT: "projects", PMS_TASK: "tasks", CUSTOMER: "customers"}
KINDS: tuple[GroupKind, ...] = ("sf_task", "sf_division", "pms_project", "pms_task", "pms_customer")
#: Edits of a field within this many seconds may not have reached every member yet.
STALE_WINDOW_S = 30.0


class Workload:
    """People working on both systems; `groups` records what they did."""

    def __init__(
        self,
        rng: random.Random,
        sf: SfPerson,
        pms: PmsPerson,
        *,
        prefix: str = "W",
        delete_share: float = 0.3,
        journal: Path | None = None,
        race_guard: bool = True,
    ) -> None:
        self.rng = rng
        self.sf = sf
        self.pms = pms
        self.race_guard = race_guard
        self.prefix = prefix
        self.delete_share = delete_share
        self.groups: list[Group] = []
        self.seq = 0
        self.dates: set[dt.date] = set()
        self.log: list[str] = []
        self.journal = journal
        #: tag -> the last edit seq the group was seen settled after (both systems agree).
        self.settled: dict[str, int] = {}

    # -- running ------------------------------------------------------------------------
    def run(
        self,
        ops: int,
        *,
        pause: tuple[float, float] = (0.05, 0.4),
        refresh_every: int = 3,
        tick: Callable[[int], None] = lambda n: None,
    ) -> None:
        """`ops` steps, `pause` seconds apart (uniform), re-reading both systems now and then."""
        for n in range(ops):
            if n % refresh_every == 0:
                self.refresh(read_snapshot(self.sf, self.pms))
            self.step()
            tick(n)
            time.sleep(self.rng.uniform(*pause))

    def note(self, line: str) -> None:
        """Keep a step in `log` (and in the journal file, for a look after a failure)."""
        self.log.append(line)
        if self.journal is not None:
            with self.journal.open("a", encoding="utf-8") as out:
                out.write(f"{time.strftime('%H:%M:%S')} {line}\n")

    def story(self, problems: list[str]) -> str:
        """What people did to the groups named in `problems` (their tags start a line)."""
        tags = {p.split(":", 1)[0].split(" ", 1)[0] for p in problems}
        lines = [line for line in self.log if any(f" {tag} " in f"{line} " for tag in tags)]
        return "\n".join(["steps on those records:", *lines])

    def refresh(self, snapshot: Snapshot) -> None:
        """Learn the ids of twins the sync has made so far, and which groups are settled."""
        for group in self.groups:
            for member in group.members:
                found = snapshot.tagged(member, group.tag)
                if len(found) == 1 and member not in group.ids:
                    group.ids[member] = str(found[0].get("Id") or found[0].get("id"))
            if not group.frozen and not check_end_state([group], snapshot):
                self.settled[group.tag] = self.seq

    def step(self) -> None:
        roll = self.rng.random()
        done = False
        if len(self.groups) >= 4 and roll < 0.1:
            done = self._delete()
        elif len(self.groups) >= 4 and roll < 0.7:
            done = self._edit()
        if not done:
            self._create()

    # -- creating -----------------------------------------------------------------------
    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def _text(self, tag: str) -> str:
        return f"{tag} {self.rng.choice(WORDS)} {self.rng.choice(WORDS)} {self._next()}"

    def _date(self) -> str:
        while True:
            day = dt.date(2026, 1, 1) + dt.timedelta(days=self.rng.randrange(4 * 365))
            if day not in self.dates:
                self.dates.add(day)
                return day.isoformat()

    def _record(self, group: Group, member: Member, values: dict[str, Any]) -> None:
        at = time.monotonic()
        for sf_field, value in values.items():
            group.edits.append(Edit(self._next(), at, member, sf_field, value))

    def _create(self) -> None:
        hosts = self._live_projects()
        kinds = [k for k in KINDS if k != "pms_task" or hosts]
        made = {g.kind for g in self.groups}
        # Every kind early on, so even a short run covers all five; then any.
        kind = self.rng.choice([k for k in kinds if k not in made] or kinds)
        tag = f"{self.prefix}{len(self.groups):03d}"
        rng = self.rng
        values: dict[str, Any]
        if kind in ("sf_task", "pms_project", "pms_task"):
            member = {"sf_task": SF_TASK, "pms_project": PROJECT, "pms_task": PMS_TASK}[kind]
            values = {
                "Subject": self._text(tag),
                "Status": rng.choice(DOMAINS[(member, "Status")]),
                "Priority": rng.choice(DOMAINS[(member, "Priority")]),
                "ActivityDate": self._date(),
                "Description": f"{rng.choice(WORDS)} \u202e{rng.choice(WORDS)} {self._next()}",
            }
        else:
            member = SF_DIVISION if kind == "sf_division" else CUSTOMER
            values = {"Name": self._text(tag), "IsActive": True}
        body = {field_name(member, k): v for k, v in values.items()}
        parent: Group | None = None
        if kind == "pms_task":
            parent = rng.choice(hosts)
            body["project_id"] = parent.ids[PROJECT]
        if member[0] == "sf":
            record_id = self.sf.create(member[1], body)
        else:
            record_id = self.pms.create(PLURAL[member], body)
        group = Group(tag, kind, record_id, ids={member: record_id})
        if parent is not None:
            parent.hosts_pms_tasks = True
            group.parent_project = parent.ids[PROJECT]
        self._record(group, member, values)
        self.groups.append(group)
        self.note(f"create {kind} {tag} {record_id}")

    def _live_projects(self) -> list[Group]:
        return [g for g in self.groups if not g.frozen and PROJECT in g.ids]

    # -- editing ------------------------------------------------------------------------
    def _edit(self) -> bool:
        candidates = [g for g in self.groups if not g.frozen and g.ids]
        if not candidates:
            return False
        group = self.rng.choice(candidates)
        members = [m for m in sorted(group.ids) if self._may_edit(group, m)]
        if not members:
            return False
        member = self.rng.choice(members)
        fields = list(EDITED_FIELDS[sf_object(group.kind)])
        self.rng.shuffle(fields)
        for sf_field in fields[: self.rng.randint(1, 2)]:
            value = self._new_value(group, member, sf_field)
            if value is _SKIP:
                continue
            name = field_name(member, sf_field)
            if member[0] == "sf":
                self.sf.update(member[1], group.ids[member], {name: value})
            else:
                self.pms.update(PLURAL[member], group.ids[member], {name: value})
            self._record(group, member, {sf_field: value})
            self.note(f"edit {group.tag} {member} {name}={value!r}")
            return True
        return False

    def _may_edit(self, group: Group, member: Member) -> bool:
        if not self.race_guard:
            return True
        settled = self.settled.get(group.tag, 0)
        return all(e.seq <= settled for e in group.edits if e.member != member)

    def _new_value(self, group: Group, member: Member, sf_field: str) -> Any:
        if sf_field in ("Subject", "Name"):
            return self._text(group.tag)
        if sf_field == "Description":
            return f"{self.rng.choice(WORDS)} {self._next()}"
        if sf_field == "ActivityDate":
            return self._date()
        domain = DOMAINS[(member, sf_field)]
        sf_domain = DOMAINS[(SF_TASK if sf_field != "IsActive" else SF_DIVISION, sf_field)]
        plausible: set[Any] = set()
        for edit in group.recent_edits(sf_field, time.monotonic() - STALE_WINDOW_S):
            images = [s for s in sf_domain if agrees(edit.member, sf_field, edit.value, s)]
            plausible.update(
                x for x in domain if any(agrees(member, sf_field, x, s) for s in images)
            )
        fresh = [x for x in domain if x not in plausible]
        return self.rng.choice(fresh) if fresh else _SKIP

    # -- deleting -----------------------------------------------------------------------
    def _delete(self) -> bool:
        if sum(g.frozen for g in self.groups) >= self.delete_share * len(self.groups):
            return False
        complete = [g for g in self.groups if not g.frozen and all(m in g.ids for m in g.members)]
        self.rng.shuffle(complete)
        for group in complete:
            choices = [m for m in group.members if self._deletable(group, m)]
            if not choices:
                continue
            member = self.rng.choice(choices)
            record_id = group.ids[member]
            if member[0] == "sf":
                self.sf.delete(member[1], record_id)
            else:
                self.pms.delete(PLURAL[member], record_id, cascade=member == PROJECT)
            group.deleted = member
            self.note(f"delete {group.tag} {member} {record_id}")
            return True
        return False

    @staticmethod
    def _deletable(group: Group, member: Member) -> bool:
        if member == SF_DIVISION:
            return False  # the API cannot delete Divisions
        # A Project holding Tasks people made would take them along (cascade).
        return not (member == PROJECT and group.hosts_pms_tasks)


_SKIP: Any = object()
