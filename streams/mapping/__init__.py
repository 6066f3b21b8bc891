"""The mapping: each flow is a table of field rows, applied by one generic function.

The flows are data in a YAML file (`config/mapping.yaml` by default, `SFPMS_MAPPING_FILE`
to choose another); Python keeps only the generic machinery. Pure code: nothing here does
network I/O or imports faust, httpx, confluent_kafka or fastapi.

- `spec`, `yaml_lines`, `loader`, `build`: the file's schema, reading it with line numbers,
  and turning it into flows (`load_mapping`, `parse_mapping`)
- `table`: `Direction`, `FieldRow`, `Flow`, `DeletePolicy` (the shape of a mapping)
- `converters`: the value converters by type (text, enum, boolean, number, date, ...)
- `flows`: the shipped flows `FLOWS` and look-ups by Salesforce object / Custompms record
- `apply`: `sf_to_pms`, `pms_to_sf` and the dotted-path helpers
- `scope`: which records a flow takes on each side
- `matching`, `onboarding`: pairing records that exist on both sides
- `validate`: checks against Salesforce describe and the Custompms OpenAPI document
- `avro`: the entity-schema fields a mapping adds (custom fields)
- `diff`, `export`, `dataflow_doc`: comparing, showing and documenting a mapping
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
