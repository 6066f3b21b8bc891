"""Tokens of the SOQL subset."""

from __future__ import annotations

import re
from dataclasses import dataclass

from emulators.salesforce.soql.errors import malformed

_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})(?![\w:.])"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?![\w:.-])")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?(?![\w.])")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?::\d+)?")
_OPERATOR = re.compile(r"!=|<>|<=|>=|=|<|>")
_PUNCT = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA"}
_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
    "%": "%",
    "_": "_",
}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # IDENT STRING NUMBER DATE DATETIME OP LPAREN RPAREN COMMA EOF
    text: str
    pos: int
    #: For STRING: the decoded value; the raw text (escapes kept) is in `text`.
    value: str = ""

    def is_word(self, *words: str) -> bool:
        return self.kind == "IDENT" and self.text.upper() in words


def _string(soql: str, start: int) -> tuple[Token, int]:
    pos = start + 1
    decoded: list[str] = []
    while pos < len(soql):
        char = soql[pos]
        if char == "\\":
            code = soql[pos + 1 : pos + 2]
            if code.lower() not in _ESCAPES and code not in _ESCAPES:
                raise malformed(
                    soql, pos, f"Invalid string literal '\\{code}'. Illegal escape sequence"
                )
            decoded.append(_ESCAPES.get(code, _ESCAPES.get(code.lower(), code)))
            pos += 2
            continue
        if char == "'":
            raw = soql[start + 1 : pos]
            return Token("STRING", raw, start, "".join(decoded)), pos + 1
        decoded.append(char)
        pos += 1
    raise malformed(soql, start, "unexpected token: unterminated string literal")


def tokenize(soql: str) -> list[Token]:
    """The tokens of `soql`, ending with an EOF token; MALFORMED_QUERY on junk."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(soql):
        char = soql[pos]
        if char.isspace():
            pos += 1
            continue
        if char == "'":
            token, pos = _string(soql, pos)
            tokens.append(token)
            continue
        if char in _PUNCT:
            tokens.append(Token(_PUNCT[char], char, pos))
            pos += 1
            continue
        for kind, pattern in (
            ("DATETIME", _DATETIME),
            ("DATE", _DATE),
            ("NUMBER", _NUMBER),
            ("OP", _OPERATOR),
            ("IDENT", _IDENT),
        ):
            match = pattern.match(soql, pos)
            if match:
                tokens.append(Token(kind, match.group(), pos))
                pos = match.end()
                break
        else:
            end = pos
            while end < len(soql) and not soql[end].isspace():
                end += 1
            raise malformed(soql, pos, f"unexpected token: '{soql[pos:end]}'")
    tokens.append(Token("EOF", "", len(soql)))
    return tokens
