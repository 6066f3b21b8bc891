"""Salesforce Division <-> Custompms Customer (`kind = "division"`)."""

from __future__ import annotations

from streams.mapping import limits
from streams.mapping.converters import Boolean, Constant, Text
from streams.mapping.table import DeletePolicy, DeleteRule, Direction, FieldRow, Flow

FLOW = Flow(
    name="division_customer",
    sf_object="Division",
    pms_resource="customer",
    pms_label="Customer",
    rows=(
        FieldRow(
            "Name",
            "name",
            "string",
            Direction.BOTH,
            to_pms=Text(limits.PMS_NAME, nullable=False),
            to_sf=Text(limits.SF_DIVISION_NAME, nullable=False),
        ),
        FieldRow(
            "IsActive",
            "active",
            "boolean",
            Direction.BOTH,
            to_pms=Boolean(nullable=False),
            to_sf=Boolean(nullable=False),
        ),
        FieldRow(
            None,
            "kind",
            "constant",
            Direction.SF_TO_PMS,
            to_pms=Constant("division"),
            note="Marks the Customers that stand for Divisions; Salesforce has no such field.",
        ),
    ),
    create_in_pms=True,
    create_in_sf=True,
    # The API cannot delete a Division, and a Customer holds the history of its work: a
    # delete on either side only deactivates the twin.
    delete_policy=DeletePolicy(
        sf_deleted=DeleteRule.deactivate({"active": False}),
        pms_deleted=DeleteRule.deactivate({"IsActive": False}),
    ),
    match_on=("name",),
    # Customers people create in Custompms (kind "company" by default, or any kind but
    # "organization") are Divisions-to-be: this is the one Customer flow that creates in SF.
    pms_default=True,
    notes=(
        "This is the only flow that creates Salesforce records from Customers, for example "
        'from a Customer a person creates in Custompms (kind "company" by default).',
    ),
)
