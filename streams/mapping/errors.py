"""The one error a mapping raises while converting a value."""

from __future__ import annotations

from foundation.errors import FatalError


class ConversionError(FatalError):
    """A value cannot be carried to the other system as it is.

    Converters raise it with only a message ("text of 300 characters exceeds the limit of
    255"); `streams.mapping.apply` re-raises it with the flow, the record id and the field, and
    names both the Salesforce and the Custompms field in the message. `field` is the field the
    value was read from (the one an operator must correct); `sf_field` and `pms_field` name both
    ends of the row. Fatal: retrying the same value cannot succeed, so the record is
    dead-lettered with this message.
    """

    def __init__(
        self,
        message: str,
        *,
        flow: str | None = None,
        record: str | None = None,
        field: str | None = None,
        sf_field: str | None = None,
        pms_field: str | None = None,
    ) -> None:
        self.sf_field = sf_field
        self.pms_field = pms_field
        super().__init__(message, flow=flow, record=record, field=field)


class UnknownValue(ConversionError):
    """A value the row's table does not list (e.g. a picklist value an administrator just
    added). Drift, not a broken record: only this field of the record is dead-lettered, with
    the value and what to add to the mapping; the record's other fields still sync."""

    def __init__(self, message: str, value: str, **where: str | None) -> None:
        self.value = value
        super().__init__(message, **where)
