"""SOQL errors in Salesforce's shape: MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE, ..."""

from __future__ import annotations


class SoqlError(Exception):
    """A query Salesforce would reject; `code` is its errorCode."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def pointed(soql: str, pos: int, message: str) -> str:
    """Salesforce's caret-style message: the query, a caret under the column, the reason."""
    before = soql[:pos]
    row = before.count("\n") + 1
    line_start = before.rfind("\n") + 1
    line_end = soql.find("\n", pos)
    line = soql[line_start : line_end if line_end >= 0 else len(soql)]
    column = pos - line_start
    return f"\n{line}\n{' ' * column}^\nERROR at Row:{row}:Column:{column + 1}\n{message}"


def malformed(soql: str, pos: int, message: str) -> SoqlError:
    return SoqlError("MALFORMED_QUERY", pointed(soql, pos, message))
