"""YAML that remembers where each key and item was written, for errors with file:line.

PyYAML's safe loader, with three changes:
- mappings and sequences come back as `LineDict` / `LineList`, which keep the line of the
  container and of each key / item (1-based), so a problem found later (by pydantic, or
  across rows) can name the line an operator must edit;
- a key written twice in one mapping is an error (YAML would keep the last one silently);
- only `true` / `false` are booleans and dates stay text (YAML 1.1 would read a picklist
  value `No` as false and `2025-01-31` as a date).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterator, Sequence
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, SequenceNode


class LineDict(dict[Any, Any]):
    """A mapping from the file: `line` of the mapping, `key_lines[key]` of each key."""

    line: int = 0

    def __init__(self) -> None:
        super().__init__()
        self.key_lines: dict[Hashable, int] = {}


class LineList(list[Any]):
    """A sequence from the file: `line` of the sequence, `item_lines[i]` of each item."""

    line: int = 0

    def __init__(self) -> None:
        super().__init__()
        self.item_lines: list[int] = []


class YamlProblem(ValueError):
    """The text is not valid YAML (or repeats a key); `line` is 1-based."""

    def __init__(self, message: str, line: int) -> None:
        self.line = line
        super().__init__(message)


class _Loader(yaml.SafeLoader):
    """SafeLoader with line-keeping containers and YAML 1.2-style booleans."""


# Drop YAML 1.1's yes/no/on/off booleans and its timestamps; keep true/false.
_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _construct_map(loader: _Loader, node: MappingNode) -> Iterator[LineDict]:
    data = LineDict()
    data.line = _line(node)
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise YamlProblem("a mapping key must be a plain value", _line(key_node))
        if key in data.key_lines:
            raise YamlProblem(
                f"key {key!r} appears twice in this mapping (first at line "
                f"{data.key_lines[key]}); keep one",
                _line(key_node),
            )
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = _line(key_node)


def _construct_seq(loader: _Loader, node: SequenceNode) -> Iterator[LineList]:
    data = LineList()
    data.line = _line(node)
    yield data
    for item in node.value:
        data.append(loader.construct_object(item, deep=True))
        data.item_lines.append(_line(item))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def load_yaml(text: str) -> Any:
    """Parse one YAML document; `YamlProblem` with the line on any syntax error."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except YamlProblem:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = int(mark.line) + 1 if mark is not None else 1
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        hint = ""
        if isinstance(exc, yaml.scanner.ScannerError | yaml.parser.ParserError):
            hint = "; check the indentation (spaces only, children further right than parents)"
        if isinstance(exc, ConstructorError):
            hint = "; this YAML feature is not allowed in a mapping file"
        raise YamlProblem(f"not valid YAML: {what}{hint}", line) from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(f"not valid YAML: {exc}", 1) from exc


def line_of(data: Any, loc: Sequence[int | str]) -> int:
    """The line of the deepest part of `loc` (a pydantic error location) found in `data`.

    Parts that are not keys of the data (pydantic's union tags such as `text`, or
    `[key]` markers) are skipped, so the walk follows the file's own structure.
    """
    line = getattr(data, "line", 1) or 1
    node = data
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            continue
        inner = getattr(node, "line", None)
        if isinstance(node, LineDict | LineList) and inner and not isinstance(part, str):
            line = inner
    return line
