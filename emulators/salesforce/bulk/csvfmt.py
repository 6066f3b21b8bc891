"""Query results as Bulk API 2.0 writes them: CSV with every value in double quotes (pure).

- The first line of every results page names the columns (`Id`, `Owner.Name`), in the
  order the query selected them (API v50.0+).
- Values are always quoted; a double quote inside a value is doubled.
- Null is an empty value (`""`): Salesforce stores an empty text as null, so there is no
  separate empty string to show.
- Booleans `true`/`false`; dates `2026-11-25`; datetimes `2026-11-25T23:08:24.000Z` (UTC,
  milliseconds, `Z` as in Bulk API results, unlike the REST API's `+0000`); numbers as
  JSON writes them.
- `columnDelimiter` (BACKQUOTE, CARET, COMMA, PIPE, SEMICOLON, TAB) and `lineEnding` (LF,
  CRLF) are the job's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from emulators.salesforce import timefmt
from emulators.salesforce.schema import FieldDef

DELIMITERS: Mapping[str, str] = {
    "BACKQUOTE": "`",
    "CARET": "^",
    "COMMA": ",",
    "PIPE": "|",
    "SEMICOLON": ";",
    "TAB": "\t",
}
LINE_ENDINGS: Mapping[str, str] = {"LF": "\n", "CRLF": "\r\n"}

Column = tuple[str, FieldDef]


def format_value(fdef: FieldDef, value: Any) -> str:
    """One value as its CSV text (before quoting)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if fdef.type == "datetime":
        moment = value if isinstance(value, datetime) else timefmt.parse_datetime(str(value))
        moment = moment.astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    if isinstance(value, float) and value.is_integer() and fdef.type == "int":
        return str(int(value))
    return str(value)


def quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def cell(record: Mapping[str, Any], name: str) -> Any:
    """The value of column `Owner.Name` (nested JSON) or `Subject` in a projected record."""
    current: Any = record
    for part in name.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


def render_page(
    columns: Sequence[Column],
    records: Iterable[Mapping[str, Any]],
    *,
    delimiter: str = "COMMA",
    line_ending: str = "LF",
) -> str:
    """A results page: the header line, then one line per record, each line terminated."""
    sep, end = DELIMITERS[delimiter], LINE_ENDINGS[line_ending]
    lines = [sep.join(quote(name) for name, _ in columns)]
    for record in records:
        lines.append(
            sep.join(quote(format_value(fdef, cell(record, name))) for name, fdef in columns)
        )
    return end.join(lines) + end
