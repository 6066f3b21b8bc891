"""The mapping spec: each flow is a table of field rows, applied by one generic function.

Pure code: nothing here does I/O or imports faust, httpx, confluent_kafka or fastapi.

- `table`: `Direction`, `FieldRow`, `Flow`, `DeletePolicy` (the shape of a mapping)
- `converters`: the value converters rows use
- `division_customer`, `organization_customer`, `task_project`, `task_task`: the four tables
- `flows`: the registry `FLOWS` and look-ups by Salesforce object / Custompms resource
- `apply`: `sf_to_pms`, `pms_to_sf` and the dotted-path helpers
- `matching`: onboarding match keys and `normalise_name`
- `validate`: checks against Salesforce describe and the Custompms OpenAPI document
- `dataflow_doc`: renders docs/dataflow.rst
"""

from __future__ import annotations

from streams.mapping.apply import (
    convert_to_pms,
    convert_to_sf,
    get_path,
    nest,
    pms_to_sf,
    row_value_pms,
    row_value_sf,
    set_path,
    sf_to_pms,
)
from streams.mapping.errors import ConversionError
from streams.mapping.flows import (
    FLOWS,
    belongs_to_flow,
    flows_for_pms_record,
    flows_for_pms_resource,
    flows_for_sf_object,
)
from streams.mapping.matching import match_key_pms, match_key_sf, normalise_name
from streams.mapping.table import (
    DeleteAction,
    DeletePolicy,
    DeleteRule,
    Direction,
    FieldRow,
    Flow,
)

__all__ = [
    "FLOWS",
    "ConversionError",
    "DeleteAction",
    "DeletePolicy",
    "DeleteRule",
    "Direction",
    "FieldRow",
    "Flow",
    "belongs_to_flow",
    "convert_to_pms",
    "convert_to_sf",
    "flows_for_pms_record",
    "flows_for_pms_resource",
    "flows_for_sf_object",
    "get_path",
    "match_key_pms",
    "match_key_sf",
    "nest",
    "normalise_name",
    "pms_to_sf",
    "row_value_pms",
    "row_value_sf",
    "set_path",
    "sf_to_pms",
]
