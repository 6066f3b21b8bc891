"""Logging set-up whose formatter is the last line of defence against leaked secrets.

Code never logs secrets on purpose (they are `SecretStr`), but libraries log requests, URLs
and exceptions, and exception messages end up in tracebacks. So the one formatter every
handler of every process uses (`RedactingFormatter`) scrubs the finished text: message,
traceback and stack alike. It replaces every configured secret, whatever its length, and
anything shaped like a bearer token, an OAuth access token or basic-auth credentials.

How a secret is found (README.md "Security"):

- A secret of 8 characters or more is replaced wherever it occurs, also inside other text,
  and so are its URL-encoded and JSON-escaped forms.
- A shorter secret is replaced where it stands as a word of its own: not where it is part of
  an identifier, a dotted or dashed name or a path. A password `sfpms` goes from
  `password=sfpms`, `'sfpms'` or `admin:sfpms@host`, while the logger `sfpms.commands`, the
  topic `sfpms.results` and the file `sfpms/cli.py` stay readable. A short secret that is also an
  ordinary word is redacted wherever that word stands alone: that is the price of a short
  secret, and the reason the local credentials are long.

Processes call `configure_logging()` once (the CLI does); a Faust worker gets the same
configuration through `logging_config()`, because Faust replaces the root handlers when it
starts. Secrets that appear later (generated credentials) are added with
`register_secrets()`. Uncaught exceptions and warnings are routed through logging too, so
their tracebacks are redacted like any other.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import sys
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "**********"
#: Secrets at least this long are replaced anywhere; shorter ones only as words of their own.
SUBSTRING_MIN_LENGTH = 8
FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
DATE_FORMAT = "%H:%M:%S"
NOISY_LOGGERS = ("httpx", "httpx2", "httpcore", "aiokafka", "faust", "mode", "uvicorn.access")

_TOKEN_SHAPED = re.compile(
    r"(?i)(bearer\s+|basic\s+|access_token=|refresh_token=|\"(?:access|refresh)_token\":\s*\")"
    r"([A-Za-z0-9._~+/!=-]{8,})"
)
#: Characters that join a word into an identifier, a dotted/dashed name or a path.
_JOINED_BEFORE = r"(?<![\w./\\-])"
_JOINED_AFTER = r"(?![\w-]|[./\\][\w-])"


def _forms(secret: str) -> set[str]:
    """The secret as written, URL-encoded (path and form style) and JSON-escaped."""
    return {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}


class Redactor:
    """Replaces known secret values and token-shaped strings in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Redact these values too (blank ones are ignored)."""
        values: set[str] = set()
        for secret in secrets:
            values.add(secret)
            if "\n" in secret:  # a multi-line secret (a PEM key) may leak a line at a time
                values.update(line.strip() for line in secret.splitlines())
        with self._lock:
            fresh = {s for s in values if s and s.strip()} - self._secrets
            if not fresh:
                return
            self._secrets |= fresh
            self._pattern = self._compile(self._secrets)

    @staticmethod
    def _compile(secrets: set[str]) -> re.Pattern[str]:
        anywhere: set[str] = set()
        as_words: set[str] = set()
        for secret in secrets:
            target = anywhere if len(secret) >= SUBSTRING_MIN_LENGTH else as_words
            target.update(_forms(secret))
        # Longest first, so a secret containing another is replaced whole.
        parts = [re.escape(s) for s in sorted(anywhere, key=len, reverse=True)]
        parts += [
            f"{_JOINED_BEFORE}{re.escape(s)}{_JOINED_AFTER}"
            for s in sorted(as_words, key=len, reverse=True)
        ]
        return re.compile("|".join(parts))

    def redact(self, text: str) -> str:
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        return _TOKEN_SHAPED.sub(lambda m: m.group(1) + REDACTED, text)


#: The process-wide redactor every `RedactingFormatter` uses unless given another.
_REDACTOR = Redactor()


def register_secrets(*values: str) -> None:
    """Redact these values in every log line of this process from now on."""
    _REDACTOR.add(values)


def redact(text: str) -> str:
    """`text` with every secret this process knows replaced (for messages shown to people)."""
    return _REDACTOR.redact(text)


class RedactingFormatter(logging.Formatter):
    """A formatter that redacts the whole output: message, traceback and stack.

    The traceback text is cached on the record (`exc_text`) in redacted form, so another
    handler formatting the same record reuses the clean text, not the raw one.
    """

    def __init__(
        self,
        fmt: str | None = FORMAT,
        datefmt: str | None = DATE_FORMAT,
        *,
        redactor: Redactor | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(fmt, datefmt, **kwargs)
        self.redactor = redactor or _REDACTOR

    def formatException(self, ei: Any) -> str:
        return self.redactor.redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return self.redactor.redact(super().formatStack(stack_info))

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_text:
            record.exc_text = self.redactor.redact(record.exc_text)
        return self.redactor.redact(super().format(record))


class RedactingFilter(logging.Filter):
    """Scrubs a record's message in place; for code that redacts text outside logging."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._redactor = Redactor(secrets)

    def redact(self, text: str) -> str:
        return self._redactor.redact(text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configured_secrets() -> list[str]:
    """Every secret value in the current settings, the registry's credentials included."""
    from pydantic import SecretStr

    from foundation.settings import get_settings

    settings = get_settings()
    values: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            values.append(value.get_secret_value())
    try:
        credentials = settings.registry_credentials()
    except ValueError:  # an unreadable credentials file is reported where it is used
        credentials = None
    if credentials is not None:
        values.append(credentials[1].get_secret_value())
    return values


def logging_config(level: int | str) -> dict[str, Any]:
    """A `logging.config.dictConfig` configuration: one stderr handler, redacting formatter.

    Faust's worker takes it as `logging_config` and applies it in place of its own.
    """
    name = level if isinstance(level, str) else logging.getLevelName(level)
    quiet = logging.getLevelName(max(logging.getLevelName(name.upper()), logging.WARNING))
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"redacting": {"()": RedactingFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "redacting",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": name.upper(), "handlers": ["stderr"]},
        "loggers": {noisy: {"level": quiet} for noisy in NOISY_LOGGERS},
    }


def _log_uncaught(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    logging.getLogger("uncaught").critical("uncaught exception", exc_info=(kind, value, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or issubclass(args.exc_type, SystemExit):
        return
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger("uncaught").critical(
        "uncaught exception in thread %s",
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


def configure_logging(level: int | None = None) -> None:
    """Root logging: one line per record, every configured secret redacted.

    Also sends uncaught exceptions (main and other threads) and warnings through logging, so
    their text is redacted too instead of going to stderr raw.
    """
    from foundation.settings import get_settings

    if level is None:
        level = logging.getLevelNamesMapping().get(get_settings().log_level.upper(), logging.INFO)
    register_secrets(*configured_secrets())
    logging.config.dictConfig(logging_config(level))
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
