"""Carry an onboarding plan out: publish each decided record again, decision attached.

Every record the plan links or creates is published once more on its change topic, as a
snapshot envelope (op r) whose `source.onboarding` says what to do: `link` (flow -> the id
of the record on the other side it is paired with) and `create` (flows in which the record
may create its twin although it existed before the sync first started). The engine does the
rest exactly as it does live: the Salesforce record's hub claims its Custompms pair, the
routing side keeps the Custompms record for that claim and accepts it unless another hub
owns the record, and only then is the pair linked (streams/core/lifecycle.py); creates are
idempotent. So an onboarding that is interrupted and run again, or run twice, cannot
duplicate anything or give one record two links.

Progress is kept in `<data_dir>/onboarding/progress.json` (run id, mapping digest, the
records published); a run that stopped half-way resumes from there.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.cdc.changes import Emission, polled_emission, salesforce_emission
from connectors.cdc.convert import EnvelopeError
from connectors.cdc.metrics import CdcMetrics
from connectors.cdc.publisher import Publisher
from connectors.schemas_live import change_topics
from foundation.entities import ENTITY_RESOURCE
from foundation.kafka import topics as t
from foundation.kafka.admin import ensure_topics
from foundation.kafka.serde import registry_client
from foundation.settings import Settings
from sfpms.onboarding.survey import Survey
from streams.mapping.onboarding import decisions

#: Records published between two checkpoints (broker acknowledgement + progress file).
CHECKPOINT_EVERY = 500


@dataclass(frozen=True, slots=True)
class Item:
    """One envelope to publish: a record, what the plan decided for it, its progress key."""

    system: str
    entity: str
    raw: Mapping[str, Any]
    link: Mapping[str, str]
    create: tuple[str, ...]
    tags: Mapping[str, bool] | None = None

    @property
    def key(self) -> str:
        record_id = self.raw.get("Id") or self.raw.get("id")
        return f"{self.system}/{self.entity}/{record_id}"

    def emission(self, run: str, sync_user: str, now: datetime) -> Emission:
        """The snapshot envelope (op r) carrying the decision."""
        onboarding = {"run": run, "link": dict(self.link), "create": list(self.create)}
        if self.system == "salesforce":
            return salesforce_emission(
                self.entity,
                self.raw,
                sync_user_id=sync_user,
                covered=None,
                snapshot=True,
                now=now,
                scope=self.tags,
                onboarding=onboarding,
            )
        resource = ENTITY_RESOURCE[self.entity]
        return polled_emission(
            resource, self.raw, covered=None, snapshot=True, now=now, onboarding=onboarding
        )


def progress_path(settings: Settings) -> Path:
    return settings.data_dir / "onboarding" / "progress.json"


def items(survey: Survey) -> list[Item]:
    """Every envelope the plans ask for, Salesforce records first, in a stable order."""
    sf_decisions, pms_decisions = decisions(survey.plans)
    found: list[Item] = []
    for sobject, records in survey.sf.items():
        for captured in records:
            decided = sf_decisions.get(captured.id)
            if decided is not None:
                found.append(
                    Item(
                        "salesforce",
                        sobject,
                        captured.raw,
                        decided.link,
                        tuple(decided.create),
                        captured.tags,
                    )
                )
    for entity, records in survey.pms.items():
        for captured in records:
            decided = pms_decisions.get((entity, captured.id))
            if decided is not None:
                found.append(
                    Item("custompms", entity, captured.raw, decided.link, tuple(decided.create))
                )
    return sorted(found, key=lambda item: (item.system != "salesforce", item.key))


class ProgressFile:
    """The run in progress: its id, the mapping it planned with, what is published."""

    def __init__(self, path: Path, digest: str) -> None:
        self.path = path
        self.digest = digest
        self.run = uuid.uuid4().hex[:12]
        self.done: set[str] = set()
        self.resumed = False
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = {}
            if data.get("digest") == digest and not data.get("finished"):
                self.run, self.done, self.resumed = data["run"], set(data["done"]), True

    def save(self, finished: bool = False) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {
            "run": self.run,
            "digest": self.digest,
            "done": sorted(self.done),
            "finished": finished,
            "saved_at": datetime.now(UTC).isoformat(),
        }
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(body), encoding="utf-8")
        temporary.replace(self.path)


async def publish(
    settings: Settings,
    survey: Survey,
    digest: str,
    progress: Callable[[int, int], None],
) -> tuple[int, int, ProgressFile]:
    """Publish every pending item; (published, failed, the progress file)."""
    state = ProgressFile(progress_path(settings), digest)
    todo = [item for item in items(survey) if item.key not in state.done]
    total = len(todo) + len(state.done)
    wanted = {*change_topics(), t.DEADLETTER, t.SOURCE_POSITIONS}
    await asyncio.to_thread(
        ensure_topics, settings, [spec for spec in t.catalogue() if spec.name in wanted]
    )
    publisher = Publisher(settings, registry_client(settings), CdcMetrics(), "onboarding")
    published = failed = 0
    try:
        await asyncio.to_thread(publisher.register, change_topics())
        since_checkpoint: list[str] = []
        for item in todo:
            try:
                publisher.publish(item.emission(state.run, survey.sync_user, datetime.now(UTC)))
                published += 1
            except EnvelopeError:
                failed += 1
            since_checkpoint.append(item.key)
            if len(since_checkpoint) >= CHECKPOINT_EVERY:
                await publisher.flush()
                state.done.update(since_checkpoint)
                state.save()
                since_checkpoint = []
                progress(len(state.done), total)
        await publisher.flush()
        state.done.update(since_checkpoint)
        state.save(finished=True)
        progress(len(state.done), total)
    finally:
        publisher.close()
    return published, failed, state
