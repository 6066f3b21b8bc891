"""The SOQL that Bulk API 2.0 query jobs refuse, found in the query's tokens (pure).

Salesforce's Bulk API 2.0 guide: query jobs don't support GROUP BY, OFFSET or TYPEOF
clauses, aggregate functions such as COUNT(), compound fields and FIELDS(), or
parent-to-child (nested) relationship queries; child-to-parent fields (`Owner.Name`) are
fine. A refused query is answered at job creation with 400 `API_ERROR`.
"""

from __future__ import annotations

from emulators.salesforce.soql.errors import SoqlError
from emulators.salesforce.soql.lexer import Token, tokenize

AGGREGATES = frozenset({"COUNT", "COUNT_DISTINCT", "SUM", "AVG", "MIN", "MAX"})


def _next(tokens: list[Token], index: int) -> Token | None:
    return tokens[index + 1] if index + 1 < len(tokens) else None


def bulk_refusal(soql: str) -> str | None:
    """Why Bulk API 2.0 refuses `soql`, or None when it may run as a query job.

    Only constructs are checked here; a malformed query is left to the parser (whose
    MALFORMED_QUERY the job creation returns too). Raises nothing for garbage input.
    """
    try:
        tokens = tokenize(soql)
    except SoqlError:  # the parser reports malformed queries properly
        return None
    for index, token in enumerate(tokens):
        following = _next(tokens, index)
        word = token.text.upper() if token.kind == "IDENT" else ""
        if token.kind == "LPAREN" and following is not None and following.is_word("SELECT"):
            return "Aggregate Relationships not supported in Bulk Query"
        if word in AGGREGATES and following is not None and following.kind == "LPAREN":
            return f"Aggregate queries are not supported in Bulk Query ({token.text}())"
        if word == "FIELDS" and following is not None and following.kind == "LPAREN":
            return "FIELDS() is not supported in Bulk Query"
        if word == "GROUP" and following is not None and following.is_word("BY"):
            return "GROUP BY is not supported in Bulk Query"
        if word in ("OFFSET", "TYPEOF"):
            return f"{word} is not supported in Bulk Query"
    return None
