"""Salesforce Organization (the singleton) <-> Custompms Customer (`kind = "organization"`)."""

from __future__ import annotations

from streams.mapping import limits
from streams.mapping.converters import Constant, Text
from streams.mapping.table import DeletePolicy, DeleteRule, Direction, FieldRow, Flow


def _both(
    sf_field: str, pms_field: str, sf_limit: int, pms_limit: int, *, required: bool = False
) -> FieldRow:
    return FieldRow(
        sf_field,
        pms_field,
        "string",
        Direction.BOTH,
        to_pms=Text(pms_limit, nullable=not required),
        to_sf=Text(sf_limit, nullable=not required),
    )


def _from_sf(sf_field: str, pms_field: str, pms_limit: int, note: str) -> FieldRow:
    return FieldRow(
        sf_field,
        pms_field,
        "string",
        Direction.SF_TO_PMS,
        to_pms=Text(pms_limit),
        note=note,
    )


_SETTING = (
    "An organisation-wide setting chosen by the Salesforce administrator from Salesforce's "
    "own list; Custompms only shows it."
)

FLOW = Flow(
    name="organization_customer",
    sf_object="Organization",
    pms_resource="customer",
    pms_label="Customer",
    rows=(
        _both("Name", "name", limits.SF_ORGANIZATION_NAME, limits.PMS_NAME, required=True),
        _both("Phone", "phone", limits.SF_PHONE, limits.PMS_PHONE),
        _both("Fax", "fax", limits.SF_PHONE, limits.PMS_PHONE),
        _both("PrimaryContact", "contact_name", limits.SF_PRIMARY_CONTACT, limits.PMS_PERSON_NAME),
        _both("Street", "address.street", limits.SF_STREET, limits.PMS_STREET),
        _both("City", "address.city", limits.SF_CITY, limits.PMS_PLACE),
        _both("State", "address.state", limits.SF_STATE, limits.PMS_PLACE),
        _both("PostalCode", "address.postal_code", limits.SF_POSTAL_CODE, limits.PMS_POSTAL_CODE),
        _both("Country", "address.country", limits.SF_COUNTRY, limits.PMS_PLACE),
        _from_sf("DefaultLocaleSidKey", "locale", limits.PMS_LOCALE, _SETTING),
        _from_sf("TimeZoneSidKey", "time_zone", limits.PMS_TIME_ZONE, _SETTING),
        FieldRow(
            None,
            "kind",
            "constant",
            Direction.SF_TO_PMS,
            to_pms=Constant("organization"),
            note="Marks the Customer that stands for the Salesforce Organization itself.",
        ),
    ),
    create_in_pms=True,
    # The Organization is a singleton Salesforce creates with the org; the API cannot create
    # one, so Customers of kind "organization" never create anything in Salesforce.
    create_in_sf=False,
    delete_policy=DeletePolicy(
        sf_deleted=DeleteRule.unlink(),
        pms_deleted=DeleteRule.unlink(),
    ),
    match_on=("name",),
    notes=(
        "There is exactly one Salesforce Organization. It creates its Customer (kind "
        '"organization") when onboarding finds no Customer of that kind with the same '
        'name; a Customer of kind "organization" never creates anything in Salesforce.',
    ),
)
