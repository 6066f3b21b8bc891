"""Salesforce record ids: 15-character case-sensitive ids and their 18-character form.

An id is a 3-character key prefix (the object type), a 2-character instance id, one
reserved character and a 9-character base-62 record number. The 18-character form adds
a 3-character suffix that encodes, for each 5-character chunk, which characters are
upper case, so the id survives case-insensitive systems (spreadsheets, some databases).
"""

from __future__ import annotations

import string
import threading

#: Base-62 digits in ASCII order, so a larger record number sorts after a smaller one.
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_SUFFIX_ALPHABET = string.ascii_uppercase + "012345"
_ALNUM = frozenset(BASE62)

#: Instance id and reserved character of every id this emulator mints.
INSTANCE = "5e0"


def checksum(id15: str) -> str:
    """The 3-character case-checksum suffix of a 15-character id."""
    suffix = []
    for chunk in range(3):
        bits = 0
        for position, char in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix.append(_SUFFIX_ALPHABET[bits])
    return "".join(suffix)


def to18(id15: str) -> str:
    """The 18-character form of a 15-character id."""
    return id15 + checksum(id15)


class MalformedId(ValueError):
    """The text is not a 15- or 18-character Salesforce id."""


def normalize(value: str) -> str:
    """A 15- or 18-character id as its canonical 18-character form.

    A 15-character id is case-sensitive. An 18-character id is accepted in any case, as
    Salesforce does: its suffix restores the case of the first 15 characters.
    """
    if len(value) not in (15, 18) or not set(value) <= _ALNUM:
        raise MalformedId(value)
    if len(value) == 15:
        return to18(value)
    suffix = value[15:].upper()
    restored = []
    for chunk, code in enumerate(suffix):
        bits = _SUFFIX_ALPHABET.find(code)
        if bits < 0:
            raise MalformedId(value)
        for position, char in enumerate(value[chunk * 5 : chunk * 5 + 5]):
            upper = bool(bits & (1 << position))
            if upper and not char.isalpha():
                raise MalformedId(value)
            restored.append(char.upper() if upper else char.lower())
    return to18("".join(restored))


def is_valid(value: str) -> bool:
    """Whether `value` is a well-formed 15- or 18-character id."""
    try:
        normalize(value)
    except MalformedId:
        return False
    return True


def encode62(number: int, width: int) -> str:
    """`number` in base 62, left-padded with zeros to `width` characters."""
    if number < 0 or number >= 62**width:
        raise ValueError(f"{number} does not fit in {width} base-62 digits")
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    return "".join(reversed(digits))


class IdMinter:
    """Mints increasing 18-character ids per key prefix; thread-safe.

    Counters start from `counters` (restored from the store), so ids stay unique across
    restarts of a file-backed emulator.
    """

    def __init__(self, counters: dict[str, int] | None = None) -> None:
        self._lock = threading.Lock()
        self.counters: dict[str, int] = dict(counters or {})

    def mint(self, prefix: str) -> str:
        with self._lock:
            number = self.counters.get(prefix, 0) + 1
            self.counters[prefix] = number
        return to18(prefix + INSTANCE + encode62(number, 9))
