"""The mapping file's schema: pydantic models of `config/mapping.yaml` (see docs/mapping.md).

These models check the shape of the file (names, types, allowed keys); `streams.mapping.build`
turns a checked file into the `Flow` / `FieldRow` objects the core uses and checks what
spans several rows (a limit for each direction written, match keys, references). Every
model forbids unknown keys, so a typo (`max_lenght`) is an error with its line, not a
silently ignored option.

A row's options depend on its converter, so a row is a tagged union: the tag is the
`converter` key, or, when it is left out, the one converter of the row's `type`.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Discriminator, Field, StrictBool, Tag

Direction = Literal["both", "sf_to_pms", "pms_to_sf"]
PmsType = Literal[
    "string", "boolean", "enum", "date", "datetime", "number", "reference", "constant"
]
ConverterName = Literal[
    "text", "enum", "boolean", "number", "date", "datetime", "reference", "constant"
]

#: The converter a row of each Custompms data type uses when it names none.
CONVERTER_OF_TYPE: dict[str, str] = {
    "string": "text",
    "enum": "enum",
    "boolean": "boolean",
    "number": "number",
    "date": "date",
    "datetime": "datetime",
    "reference": "reference",
    "constant": "constant",
}

#: A Salesforce API name (Subject, Region__c, ns__Field__c) and a Custompms dotted path.
SF_NAME = r"^[A-Za-z][A-Za-z0-9_]*$"
PMS_PATH = r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$"
FLOW_NAME = r"^[a-z][a-z0-9_]*$"

T = TypeVar("T")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PerSide(_Spec, Generic[T]):
    """A value that may differ by direction: toward Custompms and toward Salesforce."""

    to_custompms: T | None = None
    to_salesforce: T | None = None


Limit = Annotated[int, Field(ge=1, le=1_000_000)]


class TextOptions(_Spec):
    """`text`: at most `max_length` characters (per direction if they differ); `required`
    refuses empty and blank text."""

    max_length: Limit | PerSide[Limit] | None = None
    required: StrictBool | PerSide[StrictBool] = False


Value = Annotated[str, Field(min_length=1, max_length=255)]


class EnumOptions(_Spec):
    """`enum`: value tables each way; `default` replaces a value the table does not know
    (without one, that field of that record is dead-lettered and the rest syncs)."""

    to_custompms: dict[Value, Value] | None = None
    to_salesforce: dict[Value, Value] | None = None
    default: PerSide[Value] | None = None
    required: StrictBool | PerSide[StrictBool] = False


class RequiredOptions(_Spec):
    """`date`, `datetime`: `required` refuses an empty value."""

    required: StrictBool | PerSide[StrictBool] = False


class BooleanOptions(_Spec):
    """`boolean`: Salesforce checkboxes are never empty, so `required` defaults to true."""

    required: StrictBool | PerSide[StrictBool] = True


class NumberOptions(_Spec):
    """`number`: an int or a float; `integer` refuses fractions; bounds are inclusive."""

    required: StrictBool | PerSide[StrictBool] = False
    integer: StrictBool = False
    minimum: int | float | None = None
    maximum: int | float | None = None


class ReferenceOptions(_Spec):
    """`reference`: the id of the Custompms record linked by `flow` to the same Salesforce
    record (the write waits until that link exists)."""

    flow: Annotated[str, Field(pattern=FLOW_NAME)]


class ConstantOptions(_Spec):
    """`constant`: always `value`; marks which records a flow writes."""

    value: Annotated[str, Field(min_length=1, max_length=255)] | StrictBool | int


class _Row(_Spec):
    salesforce: Annotated[str, Field(pattern=SF_NAME, max_length=80)] | None = None
    custompms: Annotated[str, Field(pattern=PMS_PATH, max_length=200)]
    type: PmsType
    direction: Direction | None = None
    note: str = ""


class TextRow(_Row):
    converter: Literal["text"] = "text"
    options: TextOptions = TextOptions()


class EnumRow(_Row):
    converter: Literal["enum"] = "enum"
    options: EnumOptions = EnumOptions()


class BooleanRow(_Row):
    converter: Literal["boolean"] = "boolean"
    options: BooleanOptions = BooleanOptions()


class NumberRow(_Row):
    converter: Literal["number"] = "number"
    options: NumberOptions = NumberOptions()


class DateRow(_Row):
    converter: Literal["date"] = "date"
    options: RequiredOptions = RequiredOptions()


class DateTimeRow(_Row):
    converter: Literal["datetime"] = "datetime"
    options: RequiredOptions = RequiredOptions()


class ReferenceRow(_Row):
    converter: Literal["reference"] = "reference"
    options: ReferenceOptions


class ConstantRow(_Row):
    converter: Literal["constant"] = "constant"
    options: ConstantOptions


def _row_tag(raw: Any) -> str | None:
    """The converter a raw row uses: its `converter`, else the one of its `type`."""
    if isinstance(raw, dict):
        named = raw.get("converter")
        if isinstance(named, str):
            return named
        kind = raw.get("type")
        return CONVERTER_OF_TYPE.get(kind) if isinstance(kind, str) else None
    return getattr(raw, "converter", None)


RowSpec = Annotated[
    Annotated[TextRow, Tag("text")]
    | Annotated[EnumRow, Tag("enum")]
    | Annotated[BooleanRow, Tag("boolean")]
    | Annotated[NumberRow, Tag("number")]
    | Annotated[DateRow, Tag("date")]
    | Annotated[DateTimeRow, Tag("datetime")]
    | Annotated[ReferenceRow, Tag("reference")]
    | Annotated[ConstantRow, Tag("constant")],
    Discriminator(
        _row_tag,
        custom_error_type="row_kind",
        custom_error_message="a row needs `type` (string, boolean, enum, date, datetime, number, "
        "reference or constant) and, if given, a `converter` that exists",
    ),
]


class DeleteSpec(_Spec):
    """What a delete on one side does to the linked record on the other."""

    action: Literal["propagate", "deactivate", "unlink"]
    set: dict[str, str | StrictBool | int | None] = Field(default_factory=dict)


class DeletesSpec(_Spec):
    salesforce_deleted: DeleteSpec
    custompms_deleted: DeleteSpec


class CreateSpec(_Spec):
    """Whether a record born on one side creates its twin on the other; `existing_records`
    says what records older than the sync's first start do before onboarding has run."""

    in_custompms: StrictBool
    in_salesforce: StrictBool
    existing_records: Literal["wait_for_onboarding", "create"] = "wait_for_onboarding"


class FieldPair(_Spec):
    """A match criterion on fields that no row carries (e.g. an id the operator stored)."""

    salesforce: Annotated[str, Field(pattern=SF_NAME)]
    custompms: Annotated[str, Field(pattern=PMS_PATH)]


class MatchSpec(_Spec):
    """How records that exist on both sides are paired: `on` lists row keys (the Custompms
    property of a two-way or one-way row) or field pairs; values are compared normalised.
    `when_creating` also adopts a matching record when the live sync creates one."""

    on: list[Annotated[str, Field(pattern=PMS_PATH)] | FieldPair] = Field(min_length=1)
    when_creating: StrictBool = False


FilterValue = str | StrictBool | int | float | None


class ScopeSpec(_Spec):
    """Which records a flow takes. `salesforce` is a SOQL condition (evaluated by Salesforce
    at capture); `custompms` a property filter (path -> value, or a list of allowed values);
    `when_leaving` says what a linked record that leaves the scope does."""

    salesforce: Annotated[str, Field(min_length=1, max_length=4000)] | None = None
    custompms: dict[Annotated[str, Field(pattern=PMS_PATH)], FilterValue | list[FilterValue]] = (
        Field(default_factory=dict)
    )
    when_leaving: Literal["keep", "unlink"] = "keep"


class FlowSpec(_Spec):
    name: Annotated[str, Field(pattern=FLOW_NAME, max_length=60)]
    salesforce_object: Annotated[str, Field(pattern=SF_NAME)]
    custompms_resource: Annotated[str, Field(pattern=r"^[a-z][a-z_]*$")]
    custompms_label: Annotated[str, Field(min_length=1, max_length=60)]
    create: CreateSpec
    delete: DeletesSpec
    match: MatchSpec | None = None
    scope: ScopeSpec = ScopeSpec()
    default_for_resource: StrictBool = False
    notes: list[str] = Field(default_factory=list)
    rows: list[RowSpec] = Field(min_length=1)


class MappingSpec(_Spec):
    """The whole file."""

    version: Literal[1]
    flows: list[FlowSpec] = Field(min_length=1)
