"""A CDC dead letter is re-driven by reading its record again from its source system."""

from __future__ import annotations

import asyncio

import pytest

from connectors.cdc.convert import EnvelopeError
from connectors.cdc.metrics import CdcMetrics
from connectors.cdc.publisher import Publisher
from foundation.kafka import topics as t
from foundation.kafka.serde import registry_client
from sfpms.deadletters import read_dead_letters, redrive_records
from tests.integration.cdc.support import Stack, TopicReader

pytestmark = pytest.mark.integration

PROJECTS = t.changes_topic("custompms", "project")


def test_a_cdc_dead_letter_is_re_driven_from_the_source_system_once(stack: Stack) -> None:
    settings = stack.settings
    project = stack.pms.call("POST", "/projects", json={"name": "Fixed at the source"})
    publisher = Publisher(settings, registry_client(settings), CdcMetrics(), "custompms")
    error = EnvelopeError(
        "cannot convert", system="custompms", entity="project", record=project["id"], field="name"
    )
    publisher.dead_letter(error, system="custompms", entity="project", key=project["id"], raw=b"{}")
    asyncio.run(publisher.flush())
    publisher.close()
    letters = read_dead_letters(settings)
    assert [(r["stage"], r["topic"]) for _p, _o, r in letters] == [("cdc", PROJECTS)]

    report = redrive_records(settings, letters)
    assert len(report.sent) == 1 and not report.skipped, report
    assert redrive_records(settings, read_dead_letters(settings)).sent == []
    with TopicReader(settings, PROJECTS) as reader:
        reader.wait_for(lambda rs: bool(rs), what="the re-read envelope")
        reader.drain(1.0)
        envelopes = reader.envelopes(project["id"])
    assert [e["op"] for e in envelopes] == ["r"]
    assert envelopes[0]["after"]["name"] == "Fixed at the source"
