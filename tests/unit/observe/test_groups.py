"""Which groups and topics the lag figures cover, and what each flow depends on."""

from __future__ import annotations

from sfpms.observe.groups import Naming, expected_topics, flow_inputs


def test_the_engine_reads_every_change_topic_and_its_internal_topics() -> None:
    engine = expected_topics()["sfpms-engine"]
    assert "salesforce.task.changes" in engine and "custompms.customer.changes" in engine
    assert {"sfpms.inbox", "sfpms.results", "sfpms.routes"} <= set(engine)
    assert len(engine) == 9


def test_each_sink_group_reads_its_own_systems_write_topic() -> None:
    topics = expected_topics()
    assert topics["sfpms-sink-salesforce"] == ("salesforce.writes",)
    assert topics["sfpms-sink-custompms"] == ("custompms.writes",)


def test_a_flow_depends_on_the_changes_and_writes_of_its_two_entities() -> None:
    pairs = {inputs.flow: set(inputs.pairs) for inputs in flow_inputs()}
    assert pairs["task_project"] == {
        ("sfpms-engine", "salesforce.task.changes"),
        ("sfpms-engine", "custompms.project.changes"),
        ("sfpms-sink-custompms", "custompms.writes"),
        ("sfpms-sink-salesforce", "salesforce.writes"),
    }
    assert ("sfpms-engine", "salesforce.division.changes") in pairs["division_customer"]


def test_replay_groups_count_as_the_products_but_the_dashboards_readers_do_not() -> None:
    naming = Naming("acme.")
    assert naming.is_product_group("acme.sfpms-replay-2026-11-25")
    assert not naming.is_product_group("acme.sfpms-observe-dlq")
    assert not naming.is_product_group("other.sfpms-engine")
    assert naming.expected()["acme.sfpms-engine"][0].startswith("acme.")
