"""CDC meets records it cannot publish as they are: too big for the broker, or unreadable
feed entries. Each becomes one bounded dead letter naming the record and the change topic it
was bound for, and capture goes on with the next record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.cdc.custompms_source import CustompmsSource
from connectors.cdc.metrics import CdcMetrics
from connectors.cdc.publisher import Publisher
from connectors.custompms import CustompmsClient, FeedEntry, MalformedFeedEntry
from foundation.deadletters import MAX_VALUE_BYTES
from foundation.kafka import topics as t
from foundation.kafka.serde import registry_client
from foundation.settings import CaptureSettings
from sfpms.deadletters import read_dead_letters
from tests.integration.cdc.support import Stack, TopicReader

pytestmark = pytest.mark.integration

PROJECTS = t.changes_topic("custompms", "project")


def _change(seq: int, record_id: str, description: str) -> FeedEntry:
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    record: dict[str, Any] = {
        "id": record_id,
        "version": 1,
        "created_at": at,
        "updated_at": at,
        "deleted_at": None,
        "name": f"P {record_id}",
        "description": description,
        "status": "planned",
        "priority": "low",
    }
    return FeedEntry(seq, "projects", record_id, "create", 1, at, "alice", record)


async def test_a_record_too_big_for_the_broker_and_an_unreadable_entry_are_dead_lettered(
    stack: Stack,
) -> None:
    settings = stack.settings
    publisher = Publisher(settings, registry_client(settings), CdcMetrics(), "custompms")
    async with CustompmsClient(settings) as client:
        source = CustompmsSource(
            client, publisher, CdcMetrics(), CaptureSettings(), {}, settings.client_name
        )
        with TopicReader(settings, PROJECTS) as reader:
            source._emit_change(_change(1, "prj_huge", "x" * 1_500_000))
            source._emit_malformed(
                MalformedFeedEntry.of({"seq": 2, "id": "prj_bad"}, KeyError("op"))
            )
            source._emit_change(_change(3, "prj_after", "fine"))
            await publisher.flush()
            published = reader.wait_for(
                lambda rs: any(r.key == b"prj_after" for r in rs), what="the next record"
            )
    publisher.close()
    assert [r.key for r in published] == [b"prj_after"]
    letters = {str(r["record"]): r for _p, _o, r in read_dead_letters(settings)}
    huge = letters["prj_huge"]
    assert (huge["stage"], huge["topic"]) == ("cdc", PROJECTS)
    assert huge["truncated"] and (huge["value_size"] or 0) > 1_500_000
    assert len(huge["value"] or b"") == MAX_VALUE_BYTES
    assert "message size" in huge["reason"] and "prj_huge" in huge["reason"]
    bad = letters["prj_bad"]
    assert (bad["stage"], bad["topic"]) == ("cdc", PROJECTS) or bad["topic"] is None
    assert "KeyError" in bad["reason"] and bad["value"]
