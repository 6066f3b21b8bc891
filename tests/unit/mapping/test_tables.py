"""The tables themselves: their invariants, the registry, the policies and onboarding match."""

from __future__ import annotations

import pytest

from foundation.errors import ConfigError
from streams.mapping.converters import Constant, EnumMap, LinkedId, Text
from streams.mapping.flows import (
    FLOWS,
    belongs_to_flow,
    flows_for_pms_record,
    flows_for_pms_resource,
    flows_for_sf_object,
)
from streams.mapping.matching import match_key_pms, match_key_sf, normalise_name
from streams.mapping.table import DeleteAction, DeletePolicy, DeleteRule, Direction, FieldRow, Flow


def test_registry_holds_the_four_flows_in_dependency_order() -> None:
    assert list(FLOWS) == [
        "division_customer",
        "organization_customer",
        "task_project",
        "task_task",
    ]


def test_lookups_by_salesforce_object_and_custompms_resource() -> None:
    assert [f.name for f in flows_for_sf_object("Task")] == ["task_project", "task_task"]
    assert [f.name for f in flows_for_sf_object("Division")] == ["division_customer"]
    assert [f.name for f in flows_for_pms_resource("customer")] == [
        "division_customer",
        "organization_customer",
    ]
    assert flows_for_sf_object("Account") == ()


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"kind": "division"}, ["division_customer"]),
        ({"kind": "organization"}, ["organization_customer"]),
        ({"kind": "company"}, ["division_customer"]),
        ({"name": "No kind"}, ["division_customer"]),
    ],
)
def test_a_customer_belongs_to_the_organization_flow_only_by_kind_and_else_to_divisions(
    record: dict[str, str], expected: list[str]
) -> None:
    assert [f.name for f in flows_for_pms_record("customer", record)] == expected


def test_projects_and_tasks_have_no_constants_so_every_record_belongs() -> None:
    assert belongs_to_flow(FLOWS["task_project"], {"name": "x"})


def test_titles_name_both_systems() -> None:
    assert FLOWS["task_project"].title == "Salesforce Task to Custompms Project"
    assert FLOWS["division_customer"].title == "Salesforce Division to Custompms Customer"


def test_creation_rules_follow_the_documented_decisions() -> None:
    rules = {name: (f.create_in_pms, f.create_in_sf) for name, f in FLOWS.items()}
    assert rules == {
        "division_customer": (True, True),
        "organization_customer": (True, False),
        "task_project": (True, True),
        "task_task": (True, True),
    }


def test_delete_policies_never_cascade_into_unrelated_data() -> None:
    def rule(name: str, side: str) -> tuple[str, dict[str, object]]:
        found: DeleteRule = getattr(FLOWS[name].delete_policy, side)
        return found.action.value, found.patch

    assert rule("division_customer", "sf_deleted") == ("deactivate", {"active": False})
    assert rule("division_customer", "pms_deleted") == ("deactivate", {"IsActive": False})
    assert rule("organization_customer", "sf_deleted") == ("unlink", {})
    assert rule("organization_customer", "pms_deleted") == ("unlink", {})
    assert rule("task_project", "sf_deleted") == ("deactivate", {"status": "cancelled"})
    assert rule("task_project", "pms_deleted") == ("unlink", {})
    assert rule("task_task", "sf_deleted") == ("propagate", {})
    assert rule("task_task", "pms_deleted") == ("unlink", {})


def test_customer_flows_match_on_name_and_task_flows_do_not_match() -> None:
    assert {name: f.match_on for name, f in FLOWS.items()} == {
        "division_customer": ("name",),
        "organization_customer": ("name",),
        "task_project": (),
        "task_task": (),
    }


def test_completed_date_is_carried_from_salesforce_only() -> None:
    row = FLOWS["task_task"].row("completed_at")
    assert (row.sf_field, row.direction) == ("CompletedDateTime", Direction.SF_TO_PMS)


def test_rows_expose_their_key_and_kind() -> None:
    flow = FLOWS["task_task"]
    assert flow.row("project_id").is_reference and not flow.row("title").is_reference
    assert FLOWS["division_customer"].row("kind").is_constant
    assert FLOWS["division_customer"].constants == {"kind": "division"}
    assert "project_id" not in {r.key for r in flow.rows_to_pms}
    assert flow.sf_fields[:2] == ("Subject", "Description")


@pytest.mark.parametrize(
    ("row_args", "message"),
    [
        (("Name", "name", "text", Direction.BOTH, Text(5), Text(5)), "unknown pms_type"),
        (("Name", "name", "string", Direction.BOTH, Text(5), None), "to_sf must be set"),
        (("Name", "name", "string", Direction.SF_TO_PMS, Text(5), Text(5)), "to_sf must be set"),
        ((None, "name", "string", Direction.BOTH, Text(5), Text(5)), "only constant rows"),
        (("Kind", "kind", "constant", Direction.SF_TO_PMS, Constant("x"), None), "no Salesforce"),
        (("Id", "project_id", "reference", Direction.SF_TO_PMS, Text(5), None), "LinkedId"),
        (("Status", "status", "enum", Direction.SF_TO_PMS, Text(5), None), "EnumMap"),
    ],
)
def test_inconsistent_row_fails_when_the_table_is_built(row_args: tuple, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        FieldRow(*row_args)


def _flow(**overrides: object) -> Flow:
    base: dict[str, object] = {
        "name": "demo",
        "sf_object": "Task",
        "pms_resource": "task",
        "pms_label": "Task",
        "rows": (FieldRow("Subject", "title", "string", Direction.BOTH, Text(9), Text(9)),),
        "create_in_pms": True,
        "create_in_sf": False,
        "delete_policy": DeletePolicy(DeleteRule.unlink(), DeleteRule.unlink()),
    }
    return Flow(**{**base, **overrides})  # type: ignore[arg-type]


def test_flow_refuses_duplicate_rows_unknown_match_keys_and_unnamed_references() -> None:
    row = FieldRow("Subject", "title", "string", Direction.BOTH, Text(9), Text(9))
    with pytest.raises(ConfigError, match="same Custompms property"):
        _flow(rows=(row, row))
    with pytest.raises(ConfigError, match="match_on"):
        _flow(match_on=("nope",))
    ref = FieldRow("Id", "project_id", "reference", Direction.SF_TO_PMS, LinkedId("x"))
    with pytest.raises(ConfigError, match="requires"):
        _flow(rows=(row, ref))


def test_registry_refuses_two_default_flows_for_one_resource() -> None:
    from streams.mapping.flows import _registry

    first, second = _flow(name="a", pms_default=True), _flow(name="b", pms_default=True)
    with pytest.raises(ConfigError, match="two default flows for task"):
        _registry(first, second)


def test_deactivation_needs_a_patch_and_other_actions_take_none() -> None:
    with pytest.raises(ConfigError):
        DeleteRule(DeleteAction.DEACTIVATE)
    with pytest.raises(ConfigError):
        DeleteRule(DeleteAction.UNLINK, (("active", False),))
    assert DeleteRule.deactivate({"active": False}).describe() == "deactivate: active = false"


def test_enum_rows_know_when_they_are_lossy() -> None:
    assert FLOWS["task_project"].row("status").lossy
    assert FLOWS["task_task"].row("status").lossy
    assert not FLOWS["task_project"].row("priority").lossy
    assert not FLOWS["division_customer"].row("name").lossy


def test_enum_map_lists_its_values_in_table_order() -> None:
    status = FLOWS["task_project"].row("status").to_pms
    assert isinstance(status, EnumMap)
    assert status.sources[0] == "Not Started"
    assert status.targets == ("planned", "active", "on_hold", "completed")


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Acme, Inc.", "ACME Inc"),
        ("  Nordic   Consulting ", "nordic consulting"),
        ("Acme-Corp", "Acme Corp"),
        ("Straße GmbH", "STRASSE GMBH"),
        ("\uff26\uff4a\uff4f\uff52\uff44", "fjord"),  # fullwidth letters
        ("O'Brien & Sons", "OBrien & Sons"),
    ],
)
def test_normalised_names_that_should_match_do(left: str, right: str) -> None:
    assert normalise_name(left) == normalise_name(right)


@pytest.mark.parametrize(("left", "right"), [("Acme", "Acme Labs"), ("Nord", "Sud")])
def test_normalised_names_that_differ_stay_different(left: str, right: str) -> None:
    assert normalise_name(left) != normalise_name(right)


def test_match_keys_pair_a_division_with_its_customer_by_normalised_name() -> None:
    flow = FLOWS["division_customer"]
    sf_key = match_key_sf(flow, {"Name": "Nordic Consulting, Ltd."})
    assert sf_key == match_key_pms(flow, {"name": "nordic  consulting ltd", "kind": "division"})
    assert sf_key == ("nordic consulting ltd",)


def test_records_without_a_usable_key_match_nothing() -> None:
    division = FLOWS["division_customer"]
    assert match_key_sf(division, {"Name": None}) is None
    assert match_key_sf(division, {"Name": "   "}) is None
    assert match_key_pms(division, {}) is None
    assert match_key_sf(FLOWS["task_project"], {"Subject": "Plan"}) is None
