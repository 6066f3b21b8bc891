"""Load a mapping file: YAML -> checked spec -> flows, with every problem as file:line.

`load_mapping(path)` reads the file (`None`: the shipped `config/mapping.yaml`);
`parse_mapping(text, source)` does the rest and is pure. Any problem raises one
`MappingFileError` listing all of them, each as

    config/mapping.yaml:42: flow task_project, row 3 (Status), options.default: <what is
    wrong>; <how to fix it>

YAML is read with PyYAML's safe loader plus line tracking (`streams.mapping.yaml_lines`);
the shape is checked by the pydantic models of `streams.mapping.spec`, the rest by
`streams.mapping.build`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from foundation.errors import ConfigError
from streams.mapping.build import Loc, build_flows
from streams.mapping.spec import MappingSpec
from streams.mapping.table import Flow
from streams.mapping.yaml_lines import LineDict, LineList, YamlProblem, load_yaml

#: How many problems one error lists; the rest are counted.
MAX_LISTED = 25


def default_mapping_path() -> Path:
    """The shipped mapping file, `config/mapping.yaml`."""
    with as_file(files("config") / "mapping.yaml") as path:
        return Path(path)


@dataclass(frozen=True)
class LoadedMapping:
    """The flows of one mapping file and where they came from."""

    source: str
    flows: Mapping[str, Flow]
    digest: str = ""
    text: str = field(default="", repr=False)


class MappingFileError(ConfigError):
    """A mapping file that cannot be used; `problems` are its `file:line: ...` lines."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        shown = self.problems[:MAX_LISTED]
        more = len(self.problems) - len(shown)
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(
            f"the mapping file {source} has {len(self.problems)} problem"
            f"{'s' if len(self.problems) != 1 else ''}:\n  " + "\n  ".join(shown) + tail
        )


def load_mapping(path: str | Path | None = None) -> LoadedMapping:
    """Read and check a mapping file (default: the shipped one)."""
    file = Path(path) if path is not None else default_mapping_path()
    shown = str(path) if path is not None else "config/mapping.yaml"
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingFileError(
            shown, [f"{shown}: cannot read the file ({exc.strerror or exc}); check the path"]
        ) from exc
    return parse_mapping(text, shown)


def parse_mapping(text: str, source: str) -> LoadedMapping:
    """Check mapping text; `MappingFileError` naming every problem by `source:line`."""
    try:
        data = load_yaml(text)
    except YamlProblem as exc:
        raise MappingFileError(source, [f"{source}:{exc.line}: {exc}"]) from None
    if not isinstance(data, LineDict):
        line = getattr(data, "line", 1)
        raise MappingFileError(
            source, [f"{source}:{line}: expected a mapping with `version: 1` and `flows:`"]
        )
    try:
        spec = MappingSpec.model_validate(data)
    except ValidationError as exc:
        problems = _pydantic_problems(exc, data, source)
        raise MappingFileError(source, problems) from None

    def where(loc: Loc) -> str:
        return f"{source}:{_walk(data, loc)[0]}"

    flows, issues = build_flows(spec, where)
    if issues:
        problems = [_format(source, data, issue.loc, issue.message) for issue in issues]
        raise MappingFileError(source, problems)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return LoadedMapping(source=source, flows=flows, digest=digest, text=text)


# -- messages -------------------------------------------------------------------------------


def _walk(data: Any, loc: Sequence[int | str], keep_last: bool = False) -> tuple[int, list[str]]:
    """(line, readable location) of `loc` in the file's data.

    Parts that are not in the data (pydantic's union branch names) are skipped; with
    `keep_last`, a last key that is not in the data (a missing one) is still named.
    """
    line = getattr(data, "line", 1) or 1
    shown: list[str] = []
    node = data
    index = 0
    while index < len(loc):
        part = loc[index]
        nxt = loc[index + 1] if index + 1 < len(loc) else None
        if isinstance(node, LineDict) and part in node:
            line = node.key_lines.get(part, line)
            child = node[part]
            if isinstance(child, LineList) and isinstance(nxt, int) and 0 <= nxt < len(child):
                line = child.item_lines[nxt]
                item = child[nxt]
                shown.append(_item_name(part, nxt, item))
                node = item
                index += 2
                continue
            shown.append(str(part))
            node = child
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            shown.append(f"item {part + 1}")
            node = node[part]
        elif keep_last and index == len(loc) - 1 and isinstance(part, str):
            shown.append(part)
        index += 1
    return line, shown


def _item_name(key: Any, index: int, item: Any) -> str:
    if key == "flows":
        name = item.get("name") if isinstance(item, Mapping) else None
        return f"flow {name}" if isinstance(name, str) else f"flow {index + 1}"
    if key == "rows":
        label = None
        if isinstance(item, Mapping):
            label = item.get("salesforce") or item.get("custompms")
        return f"row {index + 1}" + (f" ({label})" if isinstance(label, str) else "")
    return f"{key}[{index + 1}]"


def _join(shown: list[str]) -> str:
    """`flow x, row 2 (Subject), options.max_length`."""
    named = [p for p in shown if p.startswith(("flow ", "row "))]
    rest = [p for p in shown if not p.startswith(("flow ", "row "))]
    return ", ".join([*named, ".".join(rest)] if rest else named)


def _format(source: str, data: Any, loc: Loc, message: str, keep_last: bool = False) -> str:
    line, shown = _walk(data, loc, keep_last)
    where = _join(shown)
    return f"{source}:{line}: {where + ': ' if where else ''}{message}"


_FIXES = {
    "missing": "add it (see docs/mapping.md, 'The mapping file')",
    "extra_forbidden": "check the spelling or remove it; docs/mapping.md lists the keys",
    "literal_error": "use one of the values listed",
    "row_kind": "set `type` to one of the listed types",
}


def _pydantic_problems(exc: ValidationError, data: Any, source: str) -> list[str]:
    """One line per location: a union reports each branch it tried, the first one is the
    message and the others only add what else would be accepted."""
    grouped: dict[tuple[int, str], list[str]] = {}
    order: list[tuple[int, str]] = []
    for error in exc.errors(include_url=False):
        loc = tuple(error.get("loc", ()))
        kind = str(error.get("type", ""))
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if kind == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}"
        elif kind == "missing":
            message = f"{loc[-1]!r} is missing"
        elif "PerSide" in message:
            message = "or a pair {to_custompms: ..., to_salesforce: ...}"
        elif "input" in error and not isinstance(error["input"], dict | list):
            message = f"{message} (found {error['input']!r})"
        fix = _FIXES.get(kind)
        line, shown = _walk(data, loc, keep_last=kind == "missing")
        key = (line, _join(shown))
        if key not in grouped:
            grouped[key] = []
            order.append(key)
        text = f"{message}; {fix}" if fix else message
        if text not in grouped[key]:
            grouped[key].append(text)
    problems = []
    for line, where in sorted(order, key=lambda k: k[0]):
        first, *others = grouped[(line, where)]
        extra = "".join(f" {o}" if o.startswith("or ") else f"; {o}" for o in others)
        problems.append(f"{source}:{line}: {where + ': ' if where else ''}{first}{extra}")
    return problems
