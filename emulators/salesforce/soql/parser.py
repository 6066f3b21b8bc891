"""Recursive-descent parser for the SOQL subset.

    SELECT (COUNT() | field, ...) FROM object
    [WHERE condition] [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], ...]
    [LIMIT n] [OFFSET n]

Conditions combine comparisons (= != <> < <= > >=), IN / NOT IN lists and LIKE with
AND, OR, NOT and parentheses. As in Salesforce, AND and OR cannot be mixed at one level
without parentheses (`a AND b OR c` is MALFORMED_QUERY).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from emulators.salesforce import timefmt
from emulators.salesforce.soql.ast import (
    BoolOp,
    Comparison,
    DateRange,
    Expr,
    FieldPath,
    InList,
    Like,
    Literal,
    Not,
    OrderItem,
    Query,
)
from emulators.salesforce.soql.errors import SoqlError, malformed
from emulators.salesforce.soql.lexer import Token, tokenize

_KEYWORDS = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "ORDER",
        "BY",
        "LIMIT",
        "OFFSET",
        "AND",
        "OR",
        "NOT",
        "IN",
        "LIKE",
        "ASC",
        "DESC",
        "NULLS",
        "FIRST",
        "LAST",
        "NULL",
        "TRUE",
        "FALSE",
        "GROUP",
        "HAVING",
        "WITH",
        "FOR",
        "USING",
        "INCLUDES",
        "EXCLUDES",
        "TYPEOF",
    }
)
_UNSUPPORTED = {"GROUP", "HAVING", "WITH", "FOR", "USING", "INCLUDES", "EXCLUDES", "TYPEOF"}
_DATE_WORDS = {"TODAY": (0, 1), "YESTERDAY": (-1, 0), "TOMORROW": (1, 2)}


def _relative(word: str, today: date) -> DateRange | None:
    name, _, count = word.upper().partition(":")
    if name in _DATE_WORDS and not count:
        start, end = _DATE_WORDS[name]
        return DateRange(word, today + timedelta(days=start), today + timedelta(days=end))
    if count.isdigit() and name == "LAST_N_DAYS":
        return DateRange(word, today - timedelta(days=int(count)), today + timedelta(days=1))
    if count.isdigit() and name == "NEXT_N_DAYS":
        return DateRange(word, today + timedelta(days=1), today + timedelta(days=int(count) + 1))
    return None


class _Parser:
    def __init__(self, soql: str) -> None:
        self.soql = soql
        self.tokens = tokenize(soql)
        self.index = 0
        self.today = datetime.now(UTC).date()

    # -- token helpers -------------------------------------------------------------------

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def error(self, token: Token | None = None, message: str | None = None) -> SoqlError:
        token = token or self.token
        text = token.text if token.kind != "EOF" else "<EOF>"
        return malformed(self.soql, token.pos, message or f"unexpected token: {text}")

    def expect_word(self, *words: str) -> Token:
        if not self.token.is_word(*words):
            raise self.error()
        return self.advance()

    def expect(self, kind: str) -> Token:
        if self.token.kind != kind:
            raise self.error()
        return self.advance()

    # -- grammar ---------------------------------------------------------------------------

    def query(self) -> Query:
        self.expect_word("SELECT")
        count, fields = self.select_list()
        self.expect_word("FROM")
        sobject = self.expect("IDENT")
        if "." in sobject.text or ":" in sobject.text:
            raise self.error(sobject)
        where = None
        if self.token.is_word("WHERE"):
            self.advance()
            where = self.condition()
        order: tuple[OrderItem, ...] = ()
        if self.token.is_word("ORDER"):
            self.advance()
            self.expect_word("BY")
            order = self.order_list()
        limit = self.integer_clause("LIMIT")
        offset = self.integer_clause("OFFSET")
        if self.token.kind != "EOF":
            word = self.token.text.upper()
            if word in _UNSUPPORTED:
                raise SoqlError(
                    "MALFORMED_QUERY",
                    f"The emulator does not support {word} clauses (query: {self.soql})",
                )
            raise self.error()
        return Query(
            self.soql, count, fields, sobject.text, sobject.pos, where, order, limit, offset
        )

    def select_list(self) -> tuple[bool, tuple[FieldPath, ...]]:
        if self.token.is_word("COUNT") and self.tokens[self.index + 1].kind == "LPAREN":
            self.advance()
            self.advance()
            if self.token.kind != "RPAREN":
                raise self.error(message="The emulator supports COUNT() without a field only")
            self.advance()
            return True, ()
        fields = [self.field_path()]
        while self.token.kind == "COMMA":
            self.advance()
            fields.append(self.field_path())
        return False, tuple(fields)

    def field_path(self) -> FieldPath:
        token = self.token
        if token.kind == "LPAREN":
            raise SoqlError(
                "MALFORMED_QUERY", f"The emulator does not support sub-queries (query: {self.soql})"
            )
        if token.kind != "IDENT" or ":" in token.text:
            raise self.error()
        if token.text.upper() in _KEYWORDS:
            raise self.error()
        self.advance()
        if self.token.kind == "LPAREN":
            raise SoqlError(
                "MALFORMED_QUERY",
                f"The emulator does not support the function {token.text}() (query: {self.soql})",
            )
        return FieldPath(tuple(token.text.split(".")), token.pos)

    def integer_clause(self, word: str) -> int | None:
        if not self.token.is_word(word):
            return None
        self.advance()
        token = self.expect("NUMBER")
        if not token.text.isdigit():
            raise self.error(token)
        return int(token.text)

    def order_list(self) -> tuple[OrderItem, ...]:
        items = [self.order_item()]
        while self.token.kind == "COMMA":
            self.advance()
            items.append(self.order_item())
        return tuple(items)

    def order_item(self) -> OrderItem:
        path = self.field_path()
        descending = False
        if self.token.is_word("ASC", "DESC"):
            descending = self.advance().text.upper() == "DESC"
        nulls_first = True  # Salesforce sorts nulls first unless told otherwise
        if self.token.is_word("NULLS"):
            self.advance()
            nulls_first = self.expect_word("FIRST", "LAST").text.upper() == "FIRST"
        return OrderItem(path, descending, nulls_first)

    def condition(self) -> Expr:
        first = self.unary()
        if not self.token.is_word("AND", "OR"):
            return first
        op = self.token.text.upper()
        items = [first]
        while self.token.is_word("AND", "OR"):
            if self.token.text.upper() != op:
                # Salesforce refuses to guess precedence between AND and OR.
                raise self.error()
            self.advance()
            items.append(self.unary())
        return BoolOp(op, tuple(items))

    def unary(self) -> Expr:
        if self.token.is_word("NOT"):
            self.advance()
            return Not(self.unary())
        if self.token.kind == "LPAREN":
            self.advance()
            inner = self.condition()
            self.expect("RPAREN")
            return inner
        return self.predicate()

    def predicate(self) -> Expr:
        path = self.field_path()
        token = self.token
        if token.kind == "OP":
            self.advance()
            op = "!=" if token.text == "<>" else token.text
            return Comparison(path, op, self.literal())
        if token.is_word("LIKE"):
            self.advance()
            pattern = self.literal()
            if pattern.kind != "string":
                raise self.error(message="LIKE needs a string pattern")
            return Like(path, pattern)
        negate = False
        if token.is_word("NOT"):
            self.advance()
            negate = True
            if not self.token.is_word("IN"):
                raise self.error()
        if self.token.is_word("IN"):
            self.advance()
            self.expect("LPAREN")
            values = [self.literal()]
            while self.token.kind == "COMMA":
                self.advance()
                values.append(self.literal())
            self.expect("RPAREN")
            return InList(path, tuple(values), negate)
        raise self.error()

    def literal(self) -> Literal:
        token = self.advance()
        if token.kind == "STRING":
            return Literal("string", token.value, token.text, token.pos)
        if token.kind == "NUMBER":
            return Literal("number", float(token.text), token.text, token.pos)
        if token.kind == "DATE":
            try:
                return Literal("date", timefmt.parse_date(token.text), token.text, token.pos)
            except ValueError as exc:
                raise self.error(token) from exc
        if token.kind == "DATETIME":
            try:
                value = timefmt.parse_datetime(token.text, require_zone=True)
            except ValueError as exc:
                raise self.error(token) from exc
            return Literal("datetime", value, token.text, token.pos)
        if token.kind == "IDENT":
            word = token.text.upper()
            if word in ("TRUE", "FALSE"):
                return Literal("boolean", word == "TRUE", token.text, token.pos)
            if word == "NULL":
                return Literal("null", None, token.text, token.pos)
            relative = _relative(token.text, self.today)
            if relative is not None:
                return Literal("range", relative, token.text, token.pos)
        raise self.error(token)


def parse(soql: str) -> Query:
    """Parse `soql`; raises `SoqlError` (MALFORMED_QUERY) when it is not in the subset."""
    if not soql or not soql.strip():
        raise SoqlError("MALFORMED_QUERY", "The query string is empty")
    return _Parser(soql).query()
